"""The audit log for privacy officers: search, export, integrity and the subject report.

Every read goes through :class:`gateway.audit.service.AuditService` with the web user as the
actor, so visibility (a partner sees only events its organisation took part in) and the
"every read is an audit event" rule are the API's own. This module only translates the
Dutch form (dates in Europe/Amsterdam, "tot en met") into the service's filter, and keeps
the integrity check of the banner for a minute per process: verifying walks the whole chain,
which a page view should not repeat for every visitor.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidTag

from pseudonymise import UnknownKeyVersionError

from ..audit.actors import Actor
from ..audit.checkpoints import checkpoint_view
from ..audit.params import EventFilter
from ..problems import GatewayError
from ..services import services
from . import vocabulary
from .errors import WebError
from .inzage import Context
from .trail import CaseFiles, CaseIndex

VERIFY_CACHE_SECONDS = 60
PAGE_SIZE = 50
REPORT_LIMIT = 500
REFERENCE_SECONDS = 15 * 60
REPORT_PAGES = 10
"""The inzage answer reads at most this many pages of ``REPORT_LIMIT`` events (and says so
when a child has more): every page is one audited read, and the summary needs them all."""


@dataclass(frozen=True)
class Integrity:
    valid: bool
    entries: int
    first_invalid_seq: int | None
    checked_at: datetime
    checkpoint: dict | None = None
    """The newest signed checkpoint the check saw (the API's ``checkpoint`` object)."""
    gap: dict | None = None
    """After a database restore below a published checkpoint: the API's ``gap`` object."""


_cache: dict[str, Integrity] = {}
_cache_lock = threading.Lock()
_cache_time: dict[str, float] = {}


def audit_service():
    return services().audit


def actor_of(user) -> Actor:
    return Actor.web_user(user.org_oin, user.org_type, user.name_id)


FILTER_FIELDS = ("from", "to", "org", "action", "message_type", "decision")
"""The fields of the page's filter form (the names the API's search uses)."""

ADMIN_ACTIONS = (
    "admin.organisation.create",
    "admin.organisation.update",
    "admin.organisation.remove",
    "admin.organisation.suspend",
    "admin.organisation.activate",
    "admin.client.create",
    "admin.client.update",
    "admin.client.remove",
    "admin.client.rotate_key",
    "admin.route.create",
    "admin.route.update",
    "admin.route.remove",
    "admin.outbox.retry",
    "admin.idp.create",
    "admin.idp.update",
    "admin.idp.suspend",
    "admin.idp.activate",
    "admin.idp.refresh",
)
"""The ``admin.*`` actions the registry, the bootstrap file and the outbox write."""

ACTION_GROUPS = (
    ("Uitwisselingen", ("exchange.",)),
    ("Toestemmingen", ("consent.",)),
    ("Signalen", ("signal.",)),
    ("Herleidingen", ("reidentification.",)),
    ("Processen van het pact", ("case.", "exemption.", "escalation.")),
    ("Auditlog", ("audit.",)),
    ("Inloggen en sleutels", ("auth.", "pep.")),
    ("Beheer", ("admin.",)),
)


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The action dropdown: ``(group, [(code, Dutch name)])``, every action the product
    writes, so a person picks a name and never types a code."""
    codes = (*vocabulary.ACTIONS, *ADMIN_ACTIONS)
    return [
        (group, [(code, vocabulary.action(code)) for code in codes if code.startswith(prefixes)])
        for group, prefixes in ACTION_GROUPS
    ]


def known_actions() -> frozenset[str]:
    return frozenset((*vocabulary.ACTIONS, *ADMIN_ACTIONS))


@dataclass
class FilterForm:
    """What the person asked for (as typed, for the form) and what is wrong with it, per
    field, in Dutch; ``wanted`` is the service's filter when nothing is wrong."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    wanted: EventFilter | None = None

    @property
    def filters(self) -> dict[str, str]:
        """The fields that were filled in, for the links that keep them."""
        return {name: value for name, value in self.values.items() if value}


def _date(form: FilterForm, name: str) -> date | None:
    raw = form.values.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        form.errors[name] = f"„{raw}” is geen geldige datum. Kies een dag in de kalender."
        return None


def _choice(form: FilterForm, name: str, allowed, message: str) -> str | None:
    raw = form.values.get(name, "")
    if not raw:
        return None
    if raw not in allowed:
        form.errors[name] = message
        return None
    return raw


def read_filter(args, timezone: str, organisations: dict[str, str]) -> FilterForm:
    """The page's filter from its query string, checked field by field.

    ``van`` and ``tot en met`` are local dates (the end day counts whole); the coded fields
    must be one of the dropdown's choices. Each mistake is kept under its field with a
    Dutch explanation, so the page shows it beside what was typed; the API's English
    messages never reach a person."""
    form = FilterForm({name: (args.get(name) or "").strip() for name in FILTER_FIELDS})
    start, end = _date(form, "from"), _date(form, "to")
    if start and end and end < start:
        form.errors["to"] = "„Tot en met” ligt vóór „Van”. Kies een latere einddatum."
    org = _choice(form, "org", organisations, "Kies een organisatie uit de lijst.")
    action = _choice(form, "action", known_actions(), "Kies een handeling uit de lijst.")
    message_type = _choice(
        form, "message_type", vocabulary.MESSAGE_TYPES, "Kies een berichttype uit de lijst."
    )
    decision = _choice(form, "decision", vocabulary.DECISIONS, "Kies toegestaan of geweigerd.")
    if form.errors:
        return form
    zone = ZoneInfo(timezone)
    form.wanted = EventFilter(
        start=datetime.combine(start, datetime.min.time(), zone) if start else None,
        end=(datetime.combine(end + timedelta(days=1), datetime.min.time(), zone) if end else None),
        org=org,
        action=action,
        message_type=message_type,
        decision=decision,
    )
    return form


def browse(user, wanted: EventFilter, number: int, newest_first: bool) -> dict:
    """A numbered page of :data:`PAGE_SIZE` events (``items``, ``total``, ``pages``,
    ``number``), read and audited by the service under the user's visibility."""
    return audit_service().browse(actor_of(user), wanted, number, PAGE_SIZE, newest_first)


def export(user, wanted: EventFilter, fmt: str = "csv"):
    """The API's own export (``csv`` or ``jsonl``) of what the user may see, streamed."""
    return audit_service().export(actor_of(user), fmt, wanted)


def subject_report(user, bsn_digits: str, cursor: str | None = None) -> dict:
    body = {"subject": {"bsn": bsn_digits}, "cursor": cursor, "limit": REPORT_LIMIT}
    try:
        return audit_service().subject_report(actor_of(user), body)
    except GatewayError as exc:
        # the API's detail is English: a person reads the Dutch text of the code
        message = f"Het inzageverzoek is niet geldig. {vocabulary.text(exc.code)}"
        raise WebError(400, message) from None


def subject_events(user, bsn_digits: str) -> tuple[list[dict], bool]:
    """Every event of the child that ``user`` may see, and whether that is all of them."""
    events: list[dict] = []
    cursor = None
    for _ in range(REPORT_PAGES):
        page = subject_report(user, bsn_digits, cursor)
        events.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return events, True
    return events, False


def _reference_owner(user) -> str:
    return f"{user.org_oin}|{user.name_id}"


def _seal(associated: str, content: dict) -> str:
    content = {**content, "until": time.time() + REFERENCE_SECONDS}
    version, sealed = services().inzage_references.seal(associated, content)
    return base64.urlsafe_b64encode(version.to_bytes(4, "big") + sealed).decode().rstrip("=")


def _open(associated: str, reference: str, member: str) -> str | None:
    """``content[member]`` of a reference sealed for ``associated``; None when it is not
    base64, not sealed for ``associated``, of a key version never made, or expired."""
    try:
        raw = base64.urlsafe_b64decode(reference + "=" * (-len(reference) % 4))
        version, sealed = int.from_bytes(raw[:4], "big"), raw[4:]
        content = services().inzage_references.open(associated, version, sealed)
    except (ValueError, InvalidTag, UnknownKeyVersionError):
        return None
    if not isinstance(content, dict) or content.get("until", 0) < time.time():
        return None
    value = content.get(member)
    return value if isinstance(value, str) else None


def seal_reference(user, bsn_digits: str) -> str:
    """A short-lived reference to the report's child for the next page and the downloads.

    The page must not carry the BSN (not even in a hidden field, where it would sit in the
    browser's cache and in a saved page), and a URL never does. The reference is the BSN
    sealed under a key of its own (:data:`gateway.sealing.INZAGE_REFERENCES`, bound to this
    user), valid for :data:`REFERENCE_SECONDS`; nothing is stored, so it works across
    processes."""
    return _seal(_reference_owner(user), {"bsn": bsn_digits})


def open_reference(user, reference: str) -> str:
    """The BSN digits behind ``reference``; a page error when it is expired or not theirs."""
    bsn = _open(_reference_owner(user), reference, "bsn")
    if bsn is None:
        raise WebError(
            400, "Dit rapport is verlopen. Vul het BSN opnieuw in om een nieuw rapport te maken."
        )
    return bsn


def _trail_owner(user) -> str:
    """Trail references are sealed for another purpose than report references: one can
    never be opened as the other."""
    return "trail|" + _reference_owner(user)


def seal_trail(user, subject_ref: str) -> str:
    """The link from an event to its child's trail: the child's audit pseudonym (only the
    operator's readers receive it) sealed like a report reference, bound to this user and
    valid for :data:`REFERENCE_SECONDS`. A URL never carries a BSN, and not the pseudonym
    either: an address bar, a history or an access log keeps nothing that links events."""
    return _seal(_trail_owner(user), {"subject_ref": subject_ref})


def open_trail(user, reference: str) -> str | None:
    """The audit pseudonym behind a trail link; None when expired, forged or another's."""
    return _open(_trail_owner(user), reference, "subject_ref")


def _case_owner(user) -> str:
    return "case|" + _reference_owner(user)


def seal_case(user, case_id: str) -> str:
    """The link to a whole process (the operator's readers only): the internal case id sealed
    like a trail link, since it groups a child's events and a URL keeps nothing that does."""
    return _seal(_case_owner(user), {"case_id": case_id})


def open_case(user, reference: str) -> str | None:
    """The case id behind a process link; None when expired, forged or another's."""
    return _open(_case_owner(user), reference, "case_id")


def case_index() -> CaseIndex:
    return services().case_index


def case_files(user, events: list[dict]) -> CaseFiles:
    """The cases among ``events`` (which the user already received) that the user may see:
    every one for the operator's readers, for a partner's those its organisation takes part
    in (docs/pact-workflows.md section 9)."""
    return case_index().cases_of([event["seq"] for event in events], user.is_operator, user.org_oin)


def case_links(user, events: list[dict], current: str | None = None) -> dict[int, str]:
    """``seq -> link`` to the whole process of each event of a case (operator only; a partner
    never gets a link that groups events by case)."""
    if not user.is_operator:
        return {}
    sealed: dict[str, str] = {}
    links = {}
    for seq, case_id in case_index().case_ids([event["seq"] for event in events]).items():
        if case_id != current:
            if case_id not in sealed:
                sealed[case_id] = seal_case(user, case_id)
            links[seq] = sealed[case_id]
    return links


def browse_case(user, wanted: EventFilter, case_id: str, number: int, newest_first: bool) -> dict:
    """A numbered page of one case's events (operator only), read as a trail is: audited as
    ``audit.search`` under the case's child."""
    if not user.is_operator:
        raise WebError(403, "Alleen de beheerorganisatie kan een heel proces openen.")
    child = case_index().subject_of(case_id)
    one_case = replace(wanted, case_id=case_id)
    return audit_service().browse(
        actor_of(user), one_case, number, PAGE_SIZE, newest_first, about=child
    )


def export_case(user, wanted: EventFilter, case_id: str, fmt: str = "csv"):
    """The export of one case's events (operator only), audited as ``audit.export``."""
    if not user.is_operator:
        raise WebError(403, "Alleen de beheerorganisatie kan een heel proces openen.")
    return audit_service().export(actor_of(user), fmt, replace(wanted, case_id=case_id))


def inzage_context(timezone: str) -> Context:
    """Names, types and the polymorphic flag from the registry; retention from the routes."""
    organisations = services().registry.organisations()
    return Context(
        names={org.oin: org.name for org in organisations},
        types={org.oin: org.type for org in organisations},
        retention=services().exchanges.retention_days(),
        polymorphic=tuple(sorted(org.name for org in organisations if org.polymorphic)),
        timezone=timezone,
    )


def integrity(user) -> Integrity:
    """The chain's state, verified at most once a minute per process (and then audited)."""
    service = audit_service()
    key = service.db.url
    with _cache_lock:
        cached = _cache.get(key)
        if cached and time.monotonic() - _cache_time[key] < VERIFY_CACHE_SECONDS:
            return cached
    report = service.verify(actor_of(user), fresh=True)  # this page keeps its own minute
    result = Integrity(
        report.valid,
        report.entries,
        report.first_invalid_seq,
        datetime.now(ZoneInfo("Europe/Amsterdam")),
        checkpoint_view(report.checkpoint) if report.checkpoint is not None else None,
        report.gap.as_dict() if report.gap is not None else None,
    )
    with _cache_lock:
        _cache[key], _cache_time[key] = result, time.monotonic()
    return result


def forget_integrity() -> None:
    """Drop the cached check (tests, and after an operator repaired nothing: never needed)."""
    with _cache_lock:
        _cache.clear()
        _cache_time.clear()
