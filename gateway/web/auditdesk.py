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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidTag
from sqlalchemy import select

from pseudonymise import UnknownKeyVersionError

from ..audit.actors import Actor
from ..audit.params import EventFilter, parse_filter
from ..exchange.models import RoutePolicyRow
from ..problems import GatewayError
from ..services import services
from .errors import WebError
from .inzage import Context

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


_cache: dict[str, Integrity] = {}
_cache_lock = threading.Lock()
_cache_time: dict[str, float] = {}


def audit_service():
    return services().audit


def actor_of(user) -> Actor:
    return Actor.web_user(user.org_oin, user.org_type, user.name_id)


def _day(name: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise WebError(400, f"De datum bij „{name}” is niet geldig (jjjj-mm-dd).") from None


def event_filter(form: dict, timezone: str) -> EventFilter:
    """The service's filter from the page's fields: ``van`` and ``tot en met`` are local
    dates (the end day counts whole), the rest as in the API."""
    zone = ZoneInfo(timezone)
    args: dict[str, str] = {}
    if form.get("from"):
        start = datetime.combine(_day("van", form["from"]), datetime.min.time(), zone)
        args["from"] = start.isoformat()
    if form.get("to"):
        end = datetime.combine(
            _day("tot en met", form["to"]) + timedelta(days=1), datetime.min.time(), zone
        )
        args["to"] = end.isoformat()
    for name in ("org", "action", "message_type", "decision"):
        if form.get(name):
            args[name] = form[name].strip()
    try:
        return parse_filter(args)
    except GatewayError as exc:
        raise WebError(400, f"Een zoekveld is niet geldig: {exc.detail}") from None


def search(user, wanted: EventFilter, cursor: str | None) -> dict:
    try:
        return audit_service().search(actor_of(user), wanted, cursor or None, PAGE_SIZE)
    except GatewayError as exc:
        raise WebError(400, f"De zoekopdracht is niet geldig: {exc.detail}") from None


def export(user, wanted: EventFilter):
    return audit_service().export(actor_of(user), "csv", wanted)


def subject_report(user, bsn_digits: str, cursor: str | None = None) -> dict:
    body = {"subject": {"bsn": bsn_digits}, "cursor": cursor, "limit": REPORT_LIMIT}
    try:
        return audit_service().subject_report(actor_of(user), body)
    except GatewayError as exc:
        raise WebError(400, f"Het inzageverzoek is niet geldig: {exc.detail}") from None


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


def seal_reference(user, bsn_digits: str) -> str:
    """A short-lived reference to the report's child for the next page and the downloads.

    The page must not carry the BSN (not even in a hidden field, where it would sit in the
    browser's cache and in a saved page), and a URL never does. The reference is the BSN
    sealed under a key of its own (:data:`gateway.sealing.INZAGE_REFERENCES`, bound to this
    user), valid for :data:`REFERENCE_SECONDS`; nothing is stored, so it works across
    processes."""
    content = {"bsn": bsn_digits, "until": time.time() + REFERENCE_SECONDS}
    version, sealed = services().inzage_references.seal(_reference_owner(user), content)
    return base64.urlsafe_b64encode(version.to_bytes(4, "big") + sealed).decode().rstrip("=")


def open_reference(user, reference: str) -> str:
    """The BSN digits behind ``reference``; a page error when it is expired or not theirs."""
    try:
        raw = base64.urlsafe_b64decode(reference + "=" * (-len(reference) % 4))
        version, sealed = int.from_bytes(raw[:4], "big"), raw[4:]
        content = services().inzage_references.open(_reference_owner(user), version, sealed)
    except (ValueError, InvalidTag, UnknownKeyVersionError):
        content = None  # not base64, not ours, not this user's, or a key version never made
    if not content or content["until"] < time.time():
        raise WebError(
            400, "Dit rapport is verlopen. Vul het BSN opnieuw in om een nieuw rapport te maken."
        )
    return content["bsn"]


def inzage_context(timezone: str) -> Context:
    """Names, types and the polymorphic flag from the registry; retention from the routes."""
    organisations = services().registry.organisations()
    with services().db.session() as session:
        rows = session.execute(
            select(
                RoutePolicyRow.message_type,
                RoutePolicyRow.sender_type,
                RoutePolicyRow.recipient_type,
                RoutePolicyRow.retention_days,
            )
        ).all()
    return Context(
        names={org.oin: org.name for org in organisations},
        types={org.oin: org.type for org in organisations},
        retention={(row[0], row[1], row[2]): row[3] for row in rows},
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
    )
    with _cache_lock:
        _cache[key], _cache_time[key] = result, time.monotonic()
    return result


def forget_integrity() -> None:
    """Drop the cached check (tests, and after an operator repaired nothing: never needed)."""
    with _cache_lock:
        _cache.clear()
        _cache_time.clear()
