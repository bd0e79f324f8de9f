"""The pact indicators (design section 8): consultations held, exemption requests with the
advice outcome, escalations opened and closed, time to placement; counted from the case
tables and the homebound monitoring facts, small-cell safe.

The monitoring service publishes them as the ``pact`` member of its answer; it cannot import
this package (the pact's escalation reads monitoring facts, so that would be a circle), so
:class:`PactIndicators` is handed to it in ``gateway.composition`` as its
:class:`gateway.monitoring.service.PactIndicatorSource`.

Counting (school year 1 August - 31 July; "today" is the local date):
- a consultation counts in the year of its meeting, once the meeting day has come, when at
  least one invitee accepted and the case was not closed before the meeting day; it is
  ``with_agreements`` when agreements were recorded for it;
- an exemption request counts in the year of ``requested_on`` once it is decided (so
  ``by_medical_advice`` and ``by_decision`` each partition ``total``); a GGD that did not
  advise before the decision counts as ``none``; an adviser, not told the decision, counts
  the requests it advised on, decided or not;
- an escalation is ``opened`` in the year it fired, ``closed`` in the year it closed
  (``closed_on``), ``open_at_year_end`` when open at the end of 31 July, or of today for the
  current year (a year that has not begun has nothing open yet); ``by_region`` splits
  ``opened`` over every configured region (and any other region an escalation names);
- time to placement: the homebound facts whose ``placed_date`` lies in the year (up to
  today), once per child (its latest such report), in days from ``since_date``: under 42,
  42 to 90, 91 or more (the two pacts' norms); the median only when at least 5 were placed.

Scope: the operator (``org_id`` None) sees every process; a partner the processes it took
part in: the consultations it convened or accepted, the exemption cases it convened or
advised on, the escalations it reported or holds, the homebound reports it sent or received.
Within those, a count never tells a partner what the process did not: an adviser is not told
the other adviser's outcome nor the decision (OPEN-10), so for the GGD ``by_decision`` and for
the SWV both groupings are withheld (null); "5 of 5 not exempted" would tell every one.

Small cells: one :func:`gateway.monitoring.indicators.suppress_linked` over every published
count, the dashboard's monthly series included, because the same reader sees both: a
grouping and its total, ``held`` = ``with_agreements`` + an unpublished remainder, and each
month's open count = the previous month's + opened - closed (the year's first link starts
from last year's ``open_at_year_end``, which that year's answer publishes).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from sqlalchemy import exists, literal, or_, select
from sqlalchemy.orm import Session

from schemas.vocabulary import ADVICE_NONE, EXEMPTION_DECISIONS, MEDICAL_ADVICE

from ..clock import local_date
from ..monitoring.indicators import THRESHOLD, SchoolYear, suppress_linked
from ..monitoring.models import MonitoringFact
from ..registry.models import Region
from ..storage.models import Organisation
from .models import PactAgreement, PactCase, PactEscalation, PactParticipant

MEDICAL = (*MEDICAL_ADVICE, ADVICE_NONE)
BANDS = ("under_6_weeks", "6_weeks_to_3_months", "over_3_months")
TOOK_PART = ("accepted", "answered", "notified")
"""Participant statuses of an organisation that took part (an invitee that declined or never
answered, an adviser that never advised, did not)."""


def placement_band(days: int) -> str:
    if days < 42:
        return "under_6_weeks"
    if days <= 90:
        return "6_weeks_to_3_months"
    return "over_3_months"


def month_starts(year: SchoolYear, cut: date) -> list[date]:
    """The first days of the year's months up to ``cut`` (the months that have begun)."""
    months, day = [], year.start
    while day <= min(cut, year.end):
        months.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def month_end(start: date, cut: date) -> date:
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return min(following - timedelta(days=1), cut)


@dataclass
class Escalation:
    region: str
    fired_on: date
    closed_on: date | None

    def open_on(self, day: date) -> bool:
        return self.fired_on <= day and (self.closed_on is None or self.closed_on > day)


@dataclass
class PactCounts:
    """The raw counts of one year in one scope (before suppression)."""

    held: list[date] = field(default_factory=list)  # meeting dates of held consultations
    with_agreements: int = 0
    # (medical advice, decision) of each request; None: the reader was not told it
    exemptions: list[tuple[str | None, str | None]] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    placement_days: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PactCharts:
    """The dashboard's monthly series, suppressed together with the ``pact`` member: each
    list has one cell per month of :attr:`months` (an int, ``"<5"`` or ``None``)."""

    months: list[date]
    consultations: list[object]
    opened: list[object]
    closed: list[object]
    open: list[object]
    pact: dict


class PactIndicators:
    """Reads and counts the pact's processes (a monitoring ``PactIndicatorSource``)."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone

    def pact(self, session: Session, year: SchoolYear, org_id: int | None, today: date) -> dict:
        """The ``pact`` member of the indicators answer (always every key, zeros included)."""
        return self.charts(session, year, org_id, today).pact

    def charts(
        self, session: Session, year: SchoolYear, org_id: int | None, today: date
    ) -> PactCharts:
        return publish(self.count(session, year, org_id, today), year, today)

    # reading ---------------------------------------------------------------------------------
    def count(self, session: Session, year: SchoolYear, org_id: int | None, today: date):
        cut = min(year.end, today)
        counts = PactCounts()
        if cut < year.start:  # the year has not begun: nothing of it happened yet
            counts.regions = sorted(session.scalars(select(Region.code)))
            return counts
        self._consultations(session, counts, year.start, cut, org_id)
        self._exemptions(session, counts, year, cut, org_id)
        self._escalations(session, counts, cut, org_id)
        self._placements(session, counts, year.start, cut, org_id)
        return counts

    @staticmethod
    def _took_part(org_id: int):
        """The cases ``org_id`` convened or took part in."""
        took_part = exists().where(
            PactParticipant.case_id == PactCase.id,
            PactParticipant.org_id == org_id,
            or_(PactParticipant.role == "convener", PactParticipant.status.in_(TOOK_PART)),
        )
        return or_(PactCase.convener_org_id == org_id, took_part)

    def _consultations(self, session, counts, start, cut, org_id) -> None:
        accepted = exists().where(
            PactParticipant.case_id == PactCase.id,
            PactParticipant.role == "invitee",
            PactParticipant.status == "accepted",
        )
        agreed = exists().where(PactAgreement.case_id == PactCase.id)
        query = select(PactCase.meeting_date, PactCase.closed_at, agreed).where(
            PactCase.kind == "consultation",
            PactCase.meeting_date >= start,
            PactCase.meeting_date <= cut,
            accepted,
        )
        if org_id is not None:
            query = query.where(self._took_part(org_id))
        for meeting, closed_at, has_agreements in session.execute(query):
            if closed_at is not None and local_date(closed_at, self.timezone) < meeting:
                continue  # closed (consent withdrawn, say) before the meeting day
            counts.held.append(meeting)
            counts.with_agreements += bool(has_agreements)

    def _exemptions(self, session, counts, year, cut, org_id) -> None:
        """Each decided request with what the reader was told of it: leerplicht (the
        convener) received the advice and made the decision; the GGD gave the medical
        advice; an adviser is not told the other's advice, nor the decision (OPEN-10), so
        for it those are None (unknown) and never counted."""
        if org_id is None:
            convened = gave_medical = literal(True)
        else:
            convened = PactCase.convener_org_id == org_id
            gave_medical = exists().where(
                PactParticipant.case_id == PactCase.id,
                PactParticipant.org_id == org_id,
                PactParticipant.role == "adviser",
                Organisation.id == PactParticipant.org_id,
                Organisation.type == "ggd",
            )
        query = select(
            PactCase.advice_medical,
            PactCase.decision,
            or_(convened, gave_medical).label("knows_advice"),
            convened.label("knows_decision"),
        ).where(
            PactCase.kind == "exemption_advice",
            # an adviser is not told the decision, so neither whether there is one yet: it
            # counts the requests it advised on, decided or not
            or_(PactCase.decision.is_not(None), ~convened),
            PactCase.requested_on >= year.start,
            PactCase.requested_on <= year.end,
        )
        if org_id is not None:
            query = query.where(self._took_part(org_id))
        for advice, decision, knows_advice, knows_decision in session.execute(query):
            counts.exemptions.append(
                (
                    (advice or ADVICE_NONE) if knows_advice else None,
                    decision if knows_decision else None,
                )
            )

    def _escalations(self, session, counts, cut, org_id) -> None:
        query = select(
            PactEscalation.region_code, PactEscalation.fired_on, PactEscalation.closed_on
        ).where(PactEscalation.fired_on <= cut)
        if org_id is not None:
            query = query.where(
                or_(
                    PactEscalation.reporter_org_id == org_id,
                    PactEscalation.holder_org_id == org_id,
                )
            )
        counts.escalations = [
            Escalation(region, fired, closed if closed is None or closed <= cut else None)
            for region, fired, closed in session.execute(query)
        ]
        counts.regions = sorted(set(session.scalars(select(Region.code))))

    def _placements(self, session, counts, start, cut, org_id) -> None:
        query = select(
            MonitoringFact.subject_ref,
            MonitoringFact.since_date,
            MonitoringFact.placed_date,
            MonitoringFact.reported_at,
        ).where(
            MonitoringFact.kind == "homebound",
            MonitoringFact.placed_date >= start,
            MonitoringFact.placed_date <= cut,
        )
        if org_id is not None:
            query = query.where(
                or_(
                    MonitoringFact.sender_org_id == org_id,
                    MonitoringFact.recipient_org_id == org_id,
                )
            )
        latest: dict[str, tuple] = {}
        for subject_ref, since, placed, reported_at in session.execute(query):
            if subject_ref not in latest or reported_at >= latest[subject_ref][2]:
                latest[subject_ref] = (since, placed, reported_at)
        counts.placement_days = [
            max(0, (placed - since).days) for since, placed, _ in latest.values()
        ]


def publish(counts: PactCounts, year: SchoolYear, today: date) -> PactCharts:
    """Suppress every count of ``counts`` together and shape the ``pact`` member and the
    monthly series from the published cells."""
    cut = min(year.end, today)
    months = month_starts(year, cut)
    values: dict[tuple, int] = {}
    links: list[list[tuple]] = []
    unpublished: set[tuple] = set()

    def cells(names: list[tuple], counted: dict) -> list[tuple]:
        for name in names:
            values[name] = counted.get(name, 0)
        return names

    # consultations: held = with_agreements + the rest (never published); held = its months
    held = ("consultations", "held")
    with_agreements = ("consultations", "with_agreements")
    rest = ("consultations", "rest")
    by_month = [("consultations", "month", m) for m in months]
    per_month: dict = defaultdict(int)
    for meeting in counts.held:
        per_month[("consultations", "month", meeting.replace(day=1))] += 1
    values[held] = len(counts.held)
    values[with_agreements] = counts.with_agreements
    values[rest] = len(counts.held) - counts.with_agreements
    unpublished.add(rest)
    links.append([held, with_agreements, rest])
    links.append([held, *cells(by_month, per_month)])

    # exemption requests: a total, split by medical advice and (again) by decision
    total = ("exemptions", "total")
    by_advice = [("exemptions", "advice", name) for name in MEDICAL]
    by_decision = [("exemptions", "decision", name) for name in EXEMPTION_DECISIONS]
    tally: dict = defaultdict(int)
    for advice, decision in counts.exemptions:
        tally[("exemptions", "advice", advice)] += 1
        tally[("exemptions", "decision", decision)] += 1
    values[total] = len(counts.exemptions)
    links.append([total, *cells(by_advice, tally)])
    links.append([total, *cells(by_decision, tally)])
    # a grouping the reader was not told every value of is withheld as a whole (an adviser
    # learns neither the other adviser's outcome nor the decision, not even as a count)
    untold = [
        grouping
        for grouping, told in (
            (by_advice, all(advice is not None for advice, _ in counts.exemptions)),
            (by_decision, all(decision is not None for _, decision in counts.exemptions)),
        )
        if not told
    ]
    unpublished.update(cell for grouping in untold for cell in grouping)

    # escalations: opened and closed, by month and by region, and the open counts between
    opened, closed, open_end = (("escalations", name) for name in ("opened", "closed", "open"))
    escalations = counts.escalations
    in_year = [e for e in escalations if e.fired_on >= year.start]
    regions = sorted(set(counts.regions) | {e.region for e in in_year})
    by_region = [("escalations", "region", code) for code in regions]
    opened_m = [("escalations", "opened", m) for m in months]
    closed_m = [("escalations", "closed", m) for m in months]
    open_m = [("escalations", "open", m) for m in months[:-1]] + [open_end] if months else []
    tally = defaultdict(int)
    for escalation in in_year:
        tally[("escalations", "region", escalation.region)] += 1
        tally[("escalations", "opened", escalation.fired_on.replace(day=1))] += 1
    for escalation in escalations:
        if escalation.closed_on is not None and escalation.closed_on >= year.start:
            tally[("escalations", "closed", escalation.closed_on.replace(day=1))] += 1
    values[opened] = len(in_year)
    values[closed] = sum(
        1 for e in escalations if e.closed_on is not None and e.closed_on >= year.start
    )
    for m, cell in zip(months, open_m, strict=True):
        values[cell] = sum(1 for e in escalations if e.open_on(month_end(m, cut)))
    values.setdefault(open_end, 0)
    links.append([opened, *cells(by_region, tally)])
    links.append([opened, *cells(opened_m, tally)])
    links.append([closed, *cells(closed_m, tally)])
    # the open count before the year is published by last year's answer: a known number,
    # unless it was small there (then it is an unknown "<5" here too)
    start_open = sum(1 for e in escalations if e.open_on(year.start - timedelta(days=1)))
    before = [("escalations", "open", "before")] if 0 < start_open < THRESHOLD else []
    for cell in before:
        values[cell] = start_open
        unpublished.add(cell)
    previous = before
    for open_cell, opened_cell, closed_cell in zip(open_m, opened_m, closed_m, strict=True):
        links.append([*previous, opened_cell, closed_cell, open_cell])
        previous = [open_cell]
    links.append([*before, opened, closed, open_end])

    # time to placement: placed children, by band
    placed = ("placements", "placed")
    bands = [("placements", "band", name) for name in BANDS]
    tally = defaultdict(int)
    for days in counts.placement_days:
        tally[("placements", "band", placement_band(days))] += 1
    values[placed] = len(counts.placement_days)
    links.append([placed, *cells(bands, tally)])

    shown = suppress_linked(values, links, frozenset(unpublished))
    for cell in (cell for grouping in untold for cell in grouping):
        shown[cell] = None
    number = len(counts.placement_days)
    pact = {
        "consultations": {"held": shown[held], "with_agreements": shown[with_agreements]},
        "exemption_requests": {
            "total": shown[total],
            "by_medical_advice": {cell[2]: shown[cell] for cell in by_advice},
            "by_decision": {cell[2]: shown[cell] for cell in by_decision},
        },
        "escalations": {
            "opened": shown[opened],
            "closed": shown[closed],
            "open_at_year_end": shown[open_end],
            "by_region": {cell[2]: shown[cell] for cell in by_region},
        },
        "time_to_placement": {
            "placed": shown[placed],
            "median_days": _median(counts.placement_days) if number >= THRESHOLD else None,
            "by_band": {cell[2]: shown[cell] for cell in bands},
        },
    }
    return PactCharts(
        months=months,
        consultations=[shown[cell] for cell in by_month],
        opened=[shown[cell] for cell in opened_m],
        closed=[shown[cell] for cell in closed_m],
        open=[shown[cell] for cell in open_m],
        pact=pact,
    )


def _median(days: list[int]) -> int | float:
    """The median in days: whole, or a half day between the two middle values."""
    middle = median(days)
    return int(middle) if middle == int(middle) else middle
