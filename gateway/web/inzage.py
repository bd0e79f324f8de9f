"""The inzage answer (AVG art. 15): a child's audit events turned into what a parent can read.

The subject report lists raw events; a privacy officer must answer "who received what about
my child, when, why and on which basis". This module is plain Python over the events the
audit service already returned (so visibility stays the service's: a partner's officer only
ever passes in its own organisation's events) and builds: a summary per receiving
organisation, the refused sends, a timeline per local day, the events newest first in pages,
and the CSV that Dutch Excel opens. It knows no Flask, so a unit test feeds it events.

The pact's processes (issue 20, docs/pact-workflows.md section 9) are told as sentences, one
block per case, before the timeline. Which cases: those of the events the reader received
(:class:`gateway.web.trail.CaseIndex` joins them through the reader's own participation).
What of a case: what the reader's organisation may know from its role in it, as the case API
tells that organisation (section 3.2 and 4.1): the convener and the operator everything, an
invitee its own invitation and, once accepted, the agreements; an adviser its own request and
never the other adviser, an advice outcome or the decision; the holder of doorzettingsmacht
the organisations disclosed to it, the reporter not. A reader is shown its own ``case_ref``
("kenmerk") and never another organisation's.

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
from .trail import CaseFile, CaseFiles, CaseParty
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
    "Proces",
    "Processtap",
)
"""The CSV's columns; ``Proces`` and ``Processtap`` came last (issue 20) so that every column
before them keeps its place for whoever reads the file by position."""


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


CASE_REASONS = {
    "case.decline": "decline_reason",
    "case.close": "close_reason",
    "escalation.close": "close_reason",
    "exemption.decide": "exemption_decision",
    "case.remind": "reminder",
}
"""Allowed events of the pact's processes whose ``reason`` is a value of the process (why a
case closed, what was decided), not a refusal code: named from its own table."""


def case_reason(event: dict) -> str | None:
    """The Dutch name of a process event's ``reason``; None for any other event."""
    reason = event.get("reason")
    if not reason or event.get("decision") != "allowed":
        return None
    if event["action"] in CASE_REASONS:
        return vocabulary.name(CASE_REASONS[event["action"]], reason)
    if event["action"] == "escalation.open" and reason.startswith("region "):
        return "regio " + reason.removeprefix("region ")
    return None


def reason_text(event: dict) -> str:
    """An event's reason as a sentence (the CSV, the PDF): a refusal's explanation."""
    if not event.get("reason"):
        return ""
    return case_reason(event) or problem_text(event["reason"])


def reason_name(event: dict) -> str:
    """An event's reason in a few words (the pages' tables)."""
    if not event.get("reason"):
        return ""
    return case_reason(event) or vocabulary.refusal(event["reason"])


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


@dataclass(frozen=True)
class Process:
    """One block of "Processen rond dit kind": a case told in sentences."""

    case_id: str
    title: str
    lines: tuple[str, ...]


@dataclass
class Report:
    recipients: list[Recipient]
    refusals: list[dict]
    timeline: list[Day]
    events: list[dict]
    polymorphic: tuple[str, ...]
    sources: list[str]
    complete: bool = True
    processes: list[Process] = field(default_factory=list)
    disclosures: list[str] = field(default_factory=list)
    """"Wie kreeg te horen over wie": one sentence per disclosure the reader may see."""
    steps: dict[int, tuple[str, str]] = field(default_factory=dict)
    """``seq -> (Proces, Processtap)`` of the events that belong to a process shown."""

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


def build(
    events: list[dict], ctx: Context, complete: bool = True, cases: CaseFiles | None = None
) -> Report:
    """The report over ``events`` (as the audit service answers them, any order) and the
    ``cases`` among them the reader may see."""
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
    processes, disclosures, steps = _processes(events, cases or CaseFiles(), ctx)
    return Report(
        recipients=sorted(recipients.values(), key=lambda row: row.name.casefold()),
        refusals=refusals,
        timeline=_timeline(events, ctx),
        events=sorted(events, key=lambda item: item["seq"], reverse=True),
        polymorphic=ctx.polymorphic,
        sources=sources,
        complete=complete,
        processes=processes,
        disclosures=disclosures,
        steps=steps,
    )


# --- the pact's processes (docs/pact-workflows.md section 9) ------------------------------------

KIND_NOUNS = {
    "consultation": "casusoverleg",
    "exemption_advice": "advies vrijstelling",
    "escalation": "escalatie",
}
"""The kind of a case inside a sentence ("..., casusoverleg, 02-03-2027)")."""
WHOLE = ("operator", "convener")
"""Roles that see the whole case: the operator's readers and the organisation that opened it."""


def _label(kind: str, code: str | None) -> str:
    return vocabulary.name(kind, code) if code else "–"


def _day(value, ctx: Context) -> str:
    """A date as ``dd-mm-jjjj``; a moment on its local day."""
    if isinstance(value, datetime):
        value = ctx.local(value)
    return value.strftime("%d-%m-%Y")


def _names(oins: list[str], ctx: Context) -> str:
    """``A``, ``A en B``, ``A, B en C``."""
    names = [ctx.name(oin) for oin in oins]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _role(file: CaseFile) -> str:
    return "operator" if file.reader is None else file.reader.role


def _reference(file: CaseFile) -> str:
    """The reader's own reference to the case, the one it may be shown."""
    return f" (kenmerk {file.reader.case_ref})" if file.reader is not None else ""


def _days_of(seen: list[dict], ctx: Context, wanted) -> list[str]:
    return list(dict.fromkeys(_day(moment(event), ctx) for event in seen if wanted(event)))


def _invitee(party: CaseParty, ctx: Context) -> str:
    line = f"{ctx.name(party.oin)}: uitgenodigd op {_day(party.joined_at, ctx)}"
    answered = _day(party.responded_at, ctx) if party.responded_at else None
    if party.status == "accepted":
        return line + (f", aangenomen op {answered}" if answered else ", aangenomen")
    if party.status == "declined":
        reason = _label("decline_reason", party.decline_reason)
        return (
            line
            + (f", afgeslagen op {answered}" if answered else ", afgeslagen")
            + (f" (reden: {reason})" if party.decline_reason else "")
        )
    return line + ", nog niet beantwoord"


def _agreements(file: CaseFile, seen: list[dict], ctx: Context) -> str:
    # the days the convener recorded them; a reader that did not see that (an invitee) the
    # days its own copy was sent (a late accept's copy too)
    days = _days_of(seen, ctx, lambda event: event["action"] == "case.agree") or _days_of(
        seen,
        ctx,
        lambda event: (
            event["action"] == "exchange.send" and event.get("message_type") == "case_agreements"
        ),
    )
    head = "Afspraken vastgelegd" + (" op " + " en ".join(days) if days else "")
    items = []
    current = [item for item in file.agreements if item.status != "cancelled"]
    for item in current:
        party = (
            ctx.name(item.party_oin)
            if item.party_oin
            else vocabulary.name("agreement_party", item.party_role)
        )
        text = f"{party}: {_label('agreement_action', item.action)} vóór {_day(item.due_date, ctx)}"
        if item.status == "done":
            text += f", gedaan op {_day(item.done_at, ctx)}" if item.done_at else ", gedaan"
        items.append(text)
    parts = [f"regie bij {ctx.name(file.regie)}"] if file.regie else []
    parts.append(
        _count(len(current), "afspraak", "afspraken") + (f" ({'; '.join(items)})" if items else "")
    )
    if file.next_review_date:
        parts.append(f"evaluatie op {_day(file.next_review_date, ctx)}")
    return f"{head}: {'; '.join(parts)}"


def _reminders(seen: list[dict], ctx: Context) -> str | None:
    """The reminders the reader saw go out (the generated ``case_reminder`` or the
    ``case.remind`` event), once per recipient and day."""
    found = dict.fromkeys(
        f"{ctx.name(event.get('recipient'))} op {_day(moment(event), ctx)}"
        for event in seen
        if event.get("recipient")
        and event.get("decision") == "allowed"
        and (
            event["action"] == "case.remind"
            or (event["action"] == "exchange.send" and event.get("message_type") == "case_reminder")
        )
    )
    return "Herinneringen: " + "; ".join(found) if found else None


def _closed(file: CaseFile, ctx: Context) -> str | None:
    if file.closed_at is None:
        return None
    reason = f" ({_label('close_reason', file.close_reason)})" if file.close_reason else ""
    return f"Gesloten op {_day(file.closed_at, ctx)}{reason}"


def _consultation(file: CaseFile, seen: list[dict], ctx: Context) -> list[str]:
    role = _role(file)
    meeting = f" op {_day(file.meeting_date, ctx)}" if file.meeting_date else ""
    lines = [
        f"Casusoverleg{meeting}, bijeengeroepen door {ctx.name(file.convener)}, "
        f"op grond van toestemming{_reference(file)}"
    ]
    # an invitee is told its own invitation and answer, never the others' (section 3.2)
    lines += [
        _invitee(party, ctx)
        for party in file.parties
        if party.role == "invitee" and (role in WHOLE or party.oin == file.reader.oin)
    ]
    accepted = file.reader is not None and file.reader.status == "accepted"
    if file.agreements and (role in WHOLE or accepted):
        lines.append(_agreements(file, seen, ctx))
    lines += [line for line in (_reminders(seen, ctx), _closed(file, ctx)) if line]
    return lines


def _advice(file: CaseFile, party: CaseParty, whole: bool, ctx: Context) -> str:
    if party.status != "answered":
        return f"Nog geen advies van {ctx.name(party.oin)}"
    line = f"Advies van {ctx.name(party.oin)} ontvangen"
    if party.responded_at:
        line += f" op {_day(party.responded_at, ctx)}"
    if whole:  # the outcome only to whom received it (section 9), never to the other adviser
        outcome = (
            _label("medical_advice", file.advice_medical)
            if ctx.types.get(party.oin) == "ggd"
            else _label("education_arrangement", file.advice_education)
        )
        line += f": {outcome}"
    return line


def _exemption(file: CaseFile, seen: list[dict], ctx: Context) -> list[str]:
    whole = _role(file) in WHOLE
    advisers = [
        party
        for party in file.parties
        if party.role == "adviser" and (whole or party.oin == file.reader.oin)
    ]
    lines = []
    if advisers:
        asked = min(party.joined_at for party in advisers)
        lines.append(
            f"Verzoek om advies aan {_names([party.oin for party in advisers], ctx)} "
            f"op {_day(asked, ctx)}, gevraagd door {ctx.name(file.convener)}{_reference(file)}"
        )
    lines += [_advice(file, party, whole, ctx) for party in advisers]
    if whole and file.decision:
        decided = f" op {_day(file.decided_on, ctx)}" if file.decided_on else ""
        lines.append(f"Besluit{decided}: {_label('exemption_decision', file.decision)}")
    elif not whole and file.closed_at is not None:  # OPEN-10: advisers are not told the decision
        lines.append("De adviesvraag is afgesloten.")
    return lines


def _escalation(file: CaseFile, seen: list[dict], ctx: Context) -> list[str]:
    role = _role(file)
    found = file.escalation
    if found is None:
        return [f"Escalatie (doorzettingsmacht){_reference(file)}"]
    lines = [
        f"Thuis sinds {_day(found.since_date, ctx)}; norm regio {found.region} "
        f"{found.norm_days} dagen; geëscaleerd op {_day(found.fired_on, ctx)} naar "
        f"{ctx.name(found.holder_oin)}{_reference(file)}"
    ]
    if role in ("operator", "holder"):  # the reporter's profile has no involved list (5.2)
        involved = list(
            dict.fromkeys(
                item.learned_oin
                for item in file.disclosures
                if item.learner_oin == found.holder_oin
                and item.learned_oin not in (found.reporter_oin, found.holder_oin)
            )
        )
        lines.append(
            "Betrokken organisaties gemeld: " + _names(involved, ctx)
            if involved
            else "Geen andere betrokken organisaties gemeld"
        )
    if role == "operator" and not found.delivered:
        lines.append("Nog niet afgeleverd bij de houder van de doorzettingsmacht")
    ended = found.closed_on or (file.closed_at.date() if file.closed_at else None)
    if ended is not None:
        if found.placed_date is not None:
            days = (found.placed_date - found.since_date).days
            why = f"geplaatst op {_day(found.placed_date, ctx)}, {_count(days, 'dag', 'dagen')}"
        else:
            why = _label("close_reason", file.close_reason)
        lines.append(f"Beëindigd op {_day(ended, ctx)} ({why})")
    return lines


def _told(file: CaseFile, ctx: Context) -> list[tuple[datetime, str]]:
    """The case's disclosures the reader may see: all of them for the operator and for the
    convener (it made them: the actor of each event), otherwise those about or to the
    reader's own organisation (the sender and recipient of the event)."""
    noun = KIND_NOUNS.get(file.kind, "proces")
    return [
        (
            item.at,
            f"{ctx.name(item.learner_oin)} kreeg te horen dat {ctx.name(item.learned_oin)} "
            f"betrokken is ({noun}, {_day(item.at, ctx)})",
        )
        for item in file.disclosures
        if _role(file) in WHOLE or file.reader.oin in (item.learner_oin, item.learned_oin)
    ]


STORIES = {"consultation": _consultation, "exemption_advice": _exemption, "escalation": _escalation}
"""The sentences of each kind of case: ``story(file, its events the reader saw, ctx)``."""


def _processes(
    events: list[dict], cases: CaseFiles, ctx: Context
) -> tuple[list[Process], list[str], dict[int, tuple[str, str]]]:
    """The blocks, the disclosure sentences and each event's process and step. An event
    without the index (a delivery or acknowledgement of a case's message) belongs to the case
    of its exchange."""
    ordered = sorted(events, key=lambda item: item["seq"])
    of_exchange = {
        event["exchange_id"]: cases.of_event[event["seq"]]
        for event in ordered
        if event.get("exchange_id") and event["seq"] in cases.of_event
    }
    seen: dict[str, list[dict]] = {}
    steps: dict[int, tuple[str, str]] = {}
    for event in ordered:
        case_id = cases.of_event.get(event["seq"]) or of_exchange.get(event.get("exchange_id"))
        if case_id not in cases.files:
            continue
        seen.setdefault(case_id, []).append(event)
        step = (
            message_type_name(event["message_type"])
            if event["action"].startswith("exchange.") and event.get("message_type")
            else action_name(event["action"])
        )
        steps[event["seq"]] = (vocabulary.name("case_kind", cases.files[case_id].kind), step)
    processes, told = [], []
    for case_id, found in seen.items():
        file = cases.files[case_id]
        story = STORIES.get(file.kind)
        lines = story(file, found, ctx) if story else []
        processes.append(Process(case_id, vocabulary.name("case_kind", file.kind), tuple(lines)))
        told += _told(file, ctx)
    return processes, [sentence for _, sentence in sorted(told, key=lambda pair: pair[0])], steps


def page_of(report: Report, number: int, size: int = PAGE_SIZE) -> dict:
    """One page of the events, newest first: ``items``, ``number``, ``pages``."""
    pages = max(1, -(-report.total // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return {"items": report.events[start : start + size], "number": number, "pages": pages}


def _fields(event: dict, member: str) -> str:
    return ", ".join(field_name(name) for name in event.get(member) or ())


def csv_row(
    event: dict, ctx: Context, steps: dict[int, tuple[str, str]] | None = None
) -> list[str]:
    at = moment(event)
    steps = steps or {}
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
        reason_text(event),
        _fields(event, "fields_forwarded"),
        _fields(event, "fields_dropped"),
        _fields(event, "fields_generalised"),
        *steps.get(event["seq"], ("", "")),
    ]


def csv_text(report: Report, ctx: Context) -> str:
    """Every event of the report, newest first, as Dutch Excel opens it: UTF-8 with a byte
    order mark, ``;`` between fields, Dutch headers, local time beside UTC."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for event in report.events:
        writer.writerow(csv_row(event, ctx, report.steps))
    return BOM + out.getvalue()
