"""Does a consent cover an exchange, and if none does, which refusal says most?

A consent covers an exchange when it is active at that moment, its purpose is the route's
purpose, and its parties name both the sender and the recipient, each by OIN or by type
(API.md section 5). A consent for ``ggd`` covers every GGD; one naming a GGD's OIN covers
only that GGD.
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


def names(consent: Consent, party: Party) -> bool:
    """The consent's parties include this organisation, by its OIN or by its type."""
    return party.oin in consent.parties or party.type in consent.parties


def concerns(consent: Consent, purpose: str, sender: Party, recipient: Party) -> bool:
    """Same purpose, and both organisations named: the consent is about this exchange."""
    return consent.purpose == purpose and names(consent, sender) and names(consent, recipient)


def decide(
    consents: Iterable[Consent],
    purpose: str,
    sender: Party,
    recipient: Party,
    at: datetime,
    timezone: str = DEFAULT_TIMEZONE,
) -> ConsentDecision:
    """Allowed with the covering consent, or refused with the most specific code.

    Among several active consents the one running longest (then the newest) is named, so
    the audit record points at the consent that will keep covering the exchange. Without an
    active one, the consent about this exchange that ended most recently decides between
    ``consent_withdrawn`` and ``consent_expired`` (a withdrawal on the day of expiry counts
    as a withdrawal): that is the fact the sender should act on. A consent that has not
    started yet, or none at all, is ``consent_missing``.
    """
    relevant = [c for c in consents if concerns(c, purpose, sender, recipient)]
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
    set of parties that also apply today: the family's latest statement governs. Consents
    that are pending, ended or withdrawn stay as they are, so that recording an old paper
    consent, or a renewal ahead of time, never ends a consent that is in force.
    """
    if status_at(new, at, timezone) != ACTIVE:
        return []
    return [
        old
        for old in earlier
        if old.id != new.id
        and old.purpose == new.purpose
        and set(old.parties) == set(new.parties)
        and status_at(old, at, timezone) == ACTIVE
    ]
