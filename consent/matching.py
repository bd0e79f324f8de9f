"""Does a consent cover an exchange, and if none does, which refusal says most?

A consent covers an exchange when it is active at that moment, its purpose is the route's
purpose, and its parties name both the sender and the recipient, each by OIN or by type
(API.md section 5), and the sender is bound to it (section 13, rule 3): a party given as an
organisation type covers *recipients* of that type, but an organisation of that type sends
under the consent only a reply (``in_reply_to``) to an exchange it received under it. Any
other send comes from the consent's recorder or from a party named by OIN. Without that
binding every school in the country could send on a consent one school recorded for
``school``.

The same binding decides who may see a consent (the recorder, a party named by OIN, an
organisation of a type party that received an exchange under it, the operator) and who may
withdraw it (the recorder, a party named by OIN, the operator).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .interfaces import ConsentDecision, Party
from .records import Consent
from .status import ACTIVE, DEFAULT_TIMEZONE, EXPIRED, WITHDRAWN, status_at

MISSING = "consent_missing"
CODES = {WITHDRAWN: "consent_withdrawn", EXPIRED: "consent_expired"}
OPERATOR = "operator"


def names(consent: Consent, party: Party) -> bool:
    """The consent's parties include this organisation, by its OIN or by its type."""
    return party.oin in consent.parties or party.type in consent.parties


def answers_for(consent: Consent, party: Party) -> bool:
    """The consent's recorder or a party named by OIN: those who act on the consent itself
    (send on it unprompted, withdraw it), as against organisations covered by type."""
    return party.oin == consent.recorded_by.org_oin or party.oin in consent.parties


def lineage(consent: Consent, others: Iterable[Consent]) -> set[str]:
    """The consent's id and the ids of the consents it replaced, transitively.

    A restatement (:func:`superseded_by`) carries on the consent it replaces, so a reply to
    an exchange received under the earlier one is a reply under the later one too.
    """
    replaced: dict[str, list[str]] = {}
    for other in others:
        if other.superseded_by is not None:
            replaced.setdefault(other.superseded_by, []).append(other.id)
    found, todo = {consent.id}, [consent.id]
    while todo:
        for earlier in replaced.get(todo.pop(), []):
            if earlier not in found:
                found.add(earlier)
                todo.append(earlier)
    return found


def may_send(
    consent: Consent,
    sender: Party,
    replying_under: str | None = None,
    others: Iterable[Consent] = (),
) -> bool:
    """Rule 3: the recorder or a party named by OIN; an organisation covered only by its
    type, with a reply to an exchange it received under this consent (or one it replaced)."""
    if answers_for(consent, sender):
        return True
    return (
        replying_under is not None
        and sender.type in consent.parties
        and replying_under in lineage(consent, others)
    )


def concerns(
    consent: Consent,
    purpose: str,
    sender: Party,
    recipient: Party,
    replying_under: str | None = None,
    others: Iterable[Consent] = (),
) -> bool:
    """Same purpose, both organisations named, the sender bound: the consent is about this
    exchange."""
    return (
        consent.purpose == purpose
        and names(consent, sender)
        and names(consent, recipient)
        and may_send(consent, sender, replying_under, others)
    )


def may_withdraw(consent: Consent, actor: Party) -> bool:
    """Rule 3: only the recorder, a party named by OIN or the operator withdraws."""
    return actor.type == OPERATOR or answers_for(consent, actor)


def may_see(consent: Consent, viewer: Party, received_under: bool = False) -> bool:
    """Who may withdraw it, and an organisation of a type party that received an exchange
    under it (its inbox item names the consent); nobody else learns that it exists."""
    return may_withdraw(consent, viewer) or (received_under and viewer.type in consent.parties)


def findable_by_bsn(consent: Consent, viewer: Party, had_bsn: bool) -> bool:
    """Rule 2, a search by BSN: the consents the viewer recorded, and those naming it by OIN
    when it already had the child's BSN from the gateway or sent it. The operator's readers
    are exempt (API.md section 13)."""
    if viewer.type == OPERATOR or consent.recorded_by.org_oin == viewer.oin:
        return True
    return had_bsn and viewer.oin in consent.parties


def decide(
    consents: Iterable[Consent],
    purpose: str,
    sender: Party,
    recipient: Party,
    at: datetime,
    timezone: str = DEFAULT_TIMEZONE,
    replying_under: str | None = None,
) -> ConsentDecision:
    """Allowed with the covering consent, or refused with the most specific code.

    Among several active consents the one running longest (then the newest) is named, so
    the audit record points at the consent that will keep covering the exchange. Without an
    active one, the consent about this exchange that ended most recently decides between
    ``consent_withdrawn`` and ``consent_expired`` (a withdrawal on the day of expiry counts
    as a withdrawal): that is the fact the sender should act on. A consent that has not
    started yet, or none at all, is ``consent_missing``; so is a consent the sender is not
    bound to (rule 3), which the sender then learns nothing about.
    """
    consents = list(consents)
    relevant = [
        c for c in consents if concerns(c, purpose, sender, recipient, replying_under, consents)
    ]
    active = [c for c in relevant if status_at(c, at, timezone) == ACTIVE]
    if active:
        chosen = max(active, key=lambda c: (c.valid_until, c.created_at, c.id))
        return ConsentDecision(True, chosen.id, None)
    ended = []
    for consent in relevant:
        status = status_at(consent, at, timezone)
        if status in CODES:
            ended.append((_ended_at(consent, status, timezone), status == WITHDRAWN, consent))
    if not ended:
        return ConsentDecision(False, None, MISSING)
    _, withdrawn, _ = max(ended, key=lambda item: (item[0], item[1]))
    return ConsentDecision(False, None, CODES[WITHDRAWN if withdrawn else EXPIRED])


def _ended_at(consent: Consent, status: str, timezone: str) -> datetime:
    if status == WITHDRAWN:
        return consent.withdrawn_at
    day_after = consent.valid_until + timedelta(days=1)
    return datetime.combine(day_after, time(0), ZoneInfo(timezone))


def superseded_by(
    new: Consent, earlier: Iterable[Consent], at: datetime, timezone: str = DEFAULT_TIMEZONE
) -> list[Consent]:
    """The earlier consents a newly recorded one replaces.

    A new consent that applies today replaces the consents for the same child, purpose and
    set of parties that also apply today and that the same organisation recorded: its
    latest statement of the family's wishes governs. Consents that are pending, ended or
    withdrawn stay as they are, so that recording an old paper consent, or a renewal ahead
    of time, never ends a consent that is in force. Another organisation's consent is never
    replaced: that would let it end a consent it may not withdraw (API.md section 13, rule
    3), and the status change would confirm a guessed BSN to it (rule 2).
    """
    if status_at(new, at, timezone) != ACTIVE:
        return []
    return [
        old
        for old in earlier
        if old.id != new.id
        and old.purpose == new.purpose
        and old.recorded_by.org_oin == new.recorded_by.org_oin
        and set(old.parties) == set(new.parties)
        and status_at(old, at, timezone) == ACTIVE
    ]
