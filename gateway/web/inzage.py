"""The inzage answer (AVG art. 15): a child's audit events turned into what a parent can read.

The subject report lists raw events; a privacy officer must answer "who received what about
my child, when, why and on which basis". This module is plain Python over the events the
audit service already returned (so visibility stays the service's: a partner's officer only
ever passes in its own organisation's events) and builds: a summary per receiving
organisation, the refused sends, a timeline per local day, the events newest first in pages,
and the CSV that Dutch Excel opens. It knows no Flask, so a unit test feeds it events.

Message types, purposes, legal bases and payload fields take their Dutch names from the shared
vocabulary (:mod:`gateway.web.vocabulary`), so the page, the PDF and the CSV name them as the
rest of the product does. An unknown code becomes a neutral Dutch phrase, never the code itself.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from . import vocabulary
from .labels import DECISION_NAMES, action_name
from .vocabulary import text as problem_text

PAGE_SIZE = 50
BOM = "\ufeff"

RECEIPTS = {"exchange.send", "reidentification.read"}
"""Allowed events in which the recipient received something about the child: a message, or
the child's BSN after an approved re-identification."""

CSV_HEADERS = (
    "Nr.",
    "Tijdstip (Nederlandse tijd)",
    "Tijdstip (UTC)",
    "Handeling",
    "Door",
    "Van",
    "Naar",
    "Berichttype",
    "Doel",
    "Grondslag",
    "Toestemming",
    "Besluit",
    "Reden",
    "Doorgegeven gegevens",
    "Weggelaten gegevens",
    "Gegeneraliseerde gegevens",
)


def message_type_name(code: str | None) -> str:
    return vocabulary.name("message_type", code) if code else "–"


def purpose_name(code: str | None) -> str:
    return vocabulary.name("purpose", code) if code else "–"


def field_name(code: str) -> str:
    return vocabulary.name("field", code)


def legal_basis_text(basis: dict | None) -> str:
    """``wettelijke plicht (Leerplichtwet 1969 art. 21a)`` or ``toestemming``."""
    if not basis:
        return "–"
    name = vocabulary.name("legal_basis", basis.get("type") or "") or "Andere grondslag"
    return f"{name} ({basis['citation']})" if basis.get("citation") else name


@dataclass(frozen=True)
class Context:
    """What the report needs from the registry and the route policies, read once."""

    names: dict[str, str]
    types: dict[str, str] = field(default_factory=dict)
    retention: dict[tuple[str, str, str], int] = field(default_factory=dict)
    polymorphic: tuple[str, ...] = ()
    timezone: str = "Europe/Amsterdam"

    def name(self, oin: str | None) -> str:
        if not oin:
            return "–"
        return self.names.get(oin, "onbekende organisatie")

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))


@dataclass
class Recipient:
    """One receiving organisation's row of the summary."""

    name: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    what: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    legal_bases: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    generalised: list[str] = field(default_factory=list)
    consents: list[str] = field(default_factory=list)
    retention: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Day:
    day: str
    count: int
    what: tuple[str, ...]


@dataclass
class Report:
    recipients: list[Recipient]
    refusals: list[dict]
    timeline: list[Day]
    events: list[dict]
    polymorphic: tuple[str, ...]
    sources: list[str]
    complete: bool = True

    @property
    def total(self) -> int:
        return len(self.events)

    @property
    def purposes(self) -> list[str]:
        return _union(row.purposes for row in self.recipients)

    @property
    def categories(self) -> list[str]:
        return _union([*row.forwarded, *row.generalised] for row in self.recipients)

    @property
    def retention(self) -> list[str]:
        return _union(row.retention for row in self.recipients)


def _union(lists) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))


def _add(items: list[str], *values: str) -> None:
    for value in values:
        if value and value not in items:
            items.append(value)


def moment(event: dict) -> datetime:
    return datetime.fromisoformat(event["at"].replace("Z", "+00:00"))


def _retention_text(event: dict, ctx: Context) -> str | None:
    key = (
        event.get("message_type") or "",
        ctx.types.get(event.get("sender") or "", ""),
        ctx.types.get(event.get("recipient") or "", ""),
    )
    days = ctx.retention.get(key)
    if days is None:
        return None
    return f"{message_type_name(key[0])}: {days} dagen"


def _receive(row: Recipient, event: dict, ctx: Context) -> None:
    at = ctx.local(moment(event))
    row.count += 1
    row.first = at if row.first is None or at < row.first else row.first
    row.last = at if row.last is None or at > row.last else row.last
    if event["action"] == "reidentification.read":
        _add(row.what, "het BSN, na een goedgekeurd verzoek tot herleiding")
    else:
        _add(row.what, message_type_name(event.get("message_type")))
    _add(row.purposes, purpose_name(event.get("purpose")) if event.get("purpose") else "")
    _add(
        row.legal_bases,
        legal_basis_text(event.get("legal_basis")) if event.get("legal_basis") else "",
    )
    _add(row.forwarded, *(field_name(name) for name in event.get("fields_forwarded") or ()))
    _add(row.dropped, *(field_name(name) for name in event.get("fields_dropped") or ()))
    _add(row.generalised, *(field_name(name) for name in event.get("fields_generalised") or ()))
    _add(row.consents, event.get("consent_id") or "")
    _add(row.retention, _retention_text(event, ctx) or "")


def _refusal(event: dict, ctx: Context) -> dict:
    return {
        "at": ctx.local(moment(event)),
        "sender": ctx.name(event.get("sender")),
        "recipient": ctx.name(event.get("recipient")),
        "what": message_type_name(event.get("message_type")),
        "reason": problem_text(event["reason"]) if event.get("reason") else "–",
    }


def _timeline(events: list[dict], ctx: Context) -> list[Day]:
    days: dict[str, Counter] = {}
    for event in sorted(events, key=moment):
        day = ctx.local(moment(event)).strftime("%d-%m-%Y")
        days.setdefault(day, Counter())[action_name(event["action"])] += 1
    return [
        Day(day, sum(counts.values()), tuple(f"{n}× {what}" for what, n in counts.items()))
        for day, counts in days.items()
    ]


def build(events: list[dict], ctx: Context, complete: bool = True) -> Report:
    """The report over ``events`` (as the audit service answers them, any order)."""
    recipients: dict[str, Recipient] = {}
    refusals, sources = [], []
    for event in sorted(events, key=lambda item: item["seq"]):
        allowed = event.get("decision") == "allowed"
        if event["action"] in RECEIPTS and allowed and event.get("recipient"):
            oin = event["recipient"]
            row = recipients.setdefault(oin, Recipient(ctx.name(oin)))
            _receive(row, event, ctx)
            if event["action"] == "exchange.send":
                _add(sources, ctx.name(event.get("sender")))
        elif event["action"] == "exchange.send" and not allowed:
            refusals.append(_refusal(event, ctx))
    return Report(
        recipients=sorted(recipients.values(), key=lambda row: row.name.casefold()),
        refusals=refusals,
        timeline=_timeline(events, ctx),
        events=sorted(events, key=lambda item: item["seq"], reverse=True),
        polymorphic=ctx.polymorphic,
        sources=sources,
        complete=complete,
    )


def page_of(report: Report, number: int, size: int = PAGE_SIZE) -> dict:
    """One page of the events, newest first: ``items``, ``number``, ``pages``."""
    pages = max(1, -(-report.total // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return {"items": report.events[start : start + size], "number": number, "pages": pages}


def _fields(event: dict, member: str) -> str:
    return ", ".join(field_name(name) for name in event.get(member) or ())


def csv_row(event: dict, ctx: Context) -> list[str]:
    at = moment(event)
    actor = event.get("actor") or {}
    basis = event.get("legal_basis")
    return [
        str(event["seq"]),
        ctx.local(at).strftime("%d-%m-%Y %H:%M:%S"),
        at.strftime("%Y-%m-%d %H:%M:%S"),
        action_name(event["action"]),
        ctx.name(actor.get("org")),
        ctx.name(event.get("sender")) if event.get("sender") else "",
        ctx.name(event.get("recipient")) if event.get("recipient") else "",
        message_type_name(event.get("message_type")) if event.get("message_type") else "",
        purpose_name(event.get("purpose")) if event.get("purpose") else "",
        legal_basis_text(basis) if basis else "",
        event.get("consent_id") or "",
        DECISION_NAMES.get(event.get("decision") or "", ""),
        problem_text(event["reason"]) if event.get("reason") else "",
        _fields(event, "fields_forwarded"),
        _fields(event, "fields_dropped"),
        _fields(event, "fields_generalised"),
    ]


def csv_text(report: Report, ctx: Context) -> str:
    """Every event of the report, newest first, as Dutch Excel opens it: UTF-8 with a byte
    order mark, ``;`` between fields, Dutch headers, local time beside UTC."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for event in report.events:
        writer.writerow(csv_row(event, ctx))
    return BOM + out.getvalue()
