"""Computing the pact indicators from monitoring facts; pure functions, no database.

Counting (API.md section 9): a child (by pseudonym) counts once in a school year (1 August -
31 July) that its homebound period overlaps, in the category of its latest report that year;
the duration runs from ``since_date`` to ``placed_date``, today or the year's end, whichever
is first, as the plain difference in days: under 28, 28 to 90, 91 or more.

The top-level ``absolute_absence``, ``long_relative_absence`` and ``exemptions_5a`` are the
homebound registrations of those categories (Leerplichtwet art. 25 reports are the pact's
source for them), so they always equal the matching ``by_category`` cells.

Small cells: any count from 1 to 4 is published as ``"<5"`` (primary suppression). Both
groupings (``by_category`` and ``by_duration``) partition the same children, so a total known
from one grouping would reveal a single suppressed cell of the other by subtraction. Rule:
when a grouping has exactly one suppressed cell, its smallest other non-zero cell is withheld
too and published as ``null`` (complementary suppression), repeated until no grouping has
exactly one hidden cell. Every published number is then true, and no hidden cell can be
computed from the published ones within one answer. Answers for another scope (a partner
sees only the reports it sent or received) are computed the same way.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date

CATEGORIES = ("absolute_absence", "long_relative_absence", "exemption_5a", "exemption_other")
DURATIONS = ("under_4_weeks", "4_weeks_to_3_months", "over_3_months")
THRESHOLD = 5
SMALL = "<5"
_YEAR = re.compile(r"([0-9]{4})-([0-9]{4})")


class InvalidSchoolYear(ValueError):
    code = "invalid_parameter"


@dataclass(frozen=True)
class SchoolYear:
    first: int

    @property
    def label(self) -> str:
        return f"{self.first}-{self.first + 1}"

    @property
    def start(self) -> date:
        return date(self.first, 8, 1)

    @property
    def end(self) -> date:
        return date(self.first + 1, 7, 31)

    @classmethod
    def parse(cls, text: str) -> SchoolYear:
        match = _YEAR.fullmatch(text or "")
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            raise InvalidSchoolYear("school_year must look like 2025-2026")
        first = int(match.group(1))
        if not 2000 <= first <= 2100:
            raise InvalidSchoolYear("school_year must be between 2000-2001 and 2100-2101")
        return cls(first)

    @classmethod
    def containing(cls, day: date) -> SchoolYear:
        return cls(day.year if day.month >= 8 else day.year - 1)


@dataclass(frozen=True)
class HomeboundFact:
    subject_ref: str
    category: str
    since_date: date
    placed_date: date | None
    reported_at: object  # a datetime; only its order matters


def duration_band(days: int) -> str:
    if days < 28:
        return "under_4_weeks"
    if days <= 90:
        return "4_weeks_to_3_months"
    return "over_3_months"


def count_homebound(facts: list[HomeboundFact], year: SchoolYear, today: date):
    """Raw counts per category and duration band (before suppression)."""
    latest: dict[str, HomeboundFact] = {}
    for fact in facts:
        end = fact.placed_date or year.end
        if fact.since_date > year.end or end < year.start:
            continue
        current = latest.get(fact.subject_ref)
        if current is None or fact.reported_at >= current.reported_at:
            latest[fact.subject_ref] = fact
    by_category = dict.fromkeys(CATEGORIES, 0)
    by_duration = dict.fromkeys(DURATIONS, 0)
    for fact in latest.values():
        if fact.category not in by_category:
            continue
        by_category[fact.category] += 1
        stop = min(d for d in (fact.placed_date, today, year.end) if d is not None)
        by_duration[duration_band(max(0, (stop - fact.since_date).days))] += 1
    return by_category, by_duration


def suppress(groups: list[dict[str, int]]) -> list[dict[str, object]]:
    """Primary ("<5") and complementary (null) suppression over groupings of one population."""
    values = {(n, key): value for n, group in enumerate(groups) for key, value in group.items()}
    links = [[(n, key) for key in group] for n, group in enumerate(groups)]
    cells = suppress_linked(values, links)
    return [{key: cells[(n, key)] for key in group} for n, group in enumerate(groups)]


def suppress_linked(
    values: dict[Hashable, int],
    links: list[list[Hashable]],
    unpublished: frozenset[Hashable] = frozenset(),
) -> dict[Hashable, object]:
    """The one small-cell rule, over cells that several published relations link.

    ``links``: sets of cells with one known linear relation between them (a grouping whose
    total is published; a total and its parts, the total as a cell; an open count, the
    count a month earlier and the month's openings and closings). From such a relation a
    single unknown cell can be computed, so: every count from 1 to 4 is hidden (``"<5"``);
    when a link has exactly one unknown cell and that cell is hidden, the smallest other
    non-zero published cell of the link is withheld too (``None``), repeated until stable.
    ``unpublished`` cells are not in the answer but enter the relations (a remainder that is
    never shown, a count that another answer publishes): they count as unknown, are hidden
    when small, and are never withheld in their stead. :func:`suppress` is this rule for
    groupings whose totals are published as they are.
    """
    hidden = {cell for cell, value in values.items() if 0 < value < THRESHOLD}
    changed = True
    while changed:
        changed = False
        for link in links:
            unknown = [cell for cell in link if cell in hidden or cell in unpublished]
            if len(unknown) != 1 or unknown[0] not in hidden:
                continue
            candidates = [cell for cell in link if values[cell] > 0 and cell not in unknown]
            if candidates:
                hidden.add(min(candidates, key=lambda cell: (values[cell], _order(cell))))
                changed = True
    return {
        cell: (SMALL if value < THRESHOLD else None) if cell in hidden else value
        for cell, value in values.items()
    }


def _order(cell: Hashable) -> str:
    """A tie-break between equal cells that does not depend on the links' order."""
    return repr(cell)
