"""Pact indicators: counting rules of API.md section 9 and small-cell suppression."""

from datetime import date, datetime

import pytest

from gateway.monitoring.indicators import (
    HomeboundFact,
    InvalidSchoolYear,
    SchoolYear,
    count_homebound,
    duration_band,
    suppress,
)

YEAR = SchoolYear.parse("2025-2026")
TODAY = date(2026, 3, 1)


def fact(ref, category, since, placed=None, reported=1):
    return HomeboundFact(ref, category, since, placed, datetime(2026, 1, reported))


def test_school_year_bounds_and_parsing():
    assert (YEAR.start, YEAR.end) == (date(2025, 8, 1), date(2026, 7, 31))
    assert SchoolYear.containing(date(2026, 7, 31)).label == "2025-2026"
    assert SchoolYear.containing(date(2026, 8, 1)).label == "2026-2027"
    for bad in ("2025", "2025-2027", "2025/2026", "abcd-efgh", "", "2025-2026 "):
        with pytest.raises(InvalidSchoolYear):
            SchoolYear.parse(bad)


@pytest.mark.parametrize(("days", "band"), [(0, "under_4_weeks"), (27, "under_4_weeks"),
                                            (28, "4_weeks_to_3_months"), (90, "4_weeks_to_3_months"),
                                            (91, "over_3_months")])
def test_duration_bands(days, band):
    assert duration_band(days) == band


def test_child_counts_once_in_the_category_of_its_latest_report():
    facts = [
        fact("a", "long_relative_absence", date(2025, 9, 1), reported=1),
        fact("a", "exemption_5a", date(2025, 9, 1), reported=5),
        fact("b", "absolute_absence", date(2026, 2, 20)),
    ]
    by_category, by_duration = count_homebound(facts, YEAR, TODAY)
    assert by_category == {"absolute_absence": 1, "long_relative_absence": 0, "exemption_5a": 1,
                           "exemption_other": 0}
    # a: 2025-09-01 .. today 2026-03-01 = 181 days; b: 2026-02-20 .. today = 9 days
    assert by_duration == {"under_4_weeks": 1, "4_weeks_to_3_months": 0, "over_3_months": 1}


def test_duration_stops_at_placement_or_year_end_and_non_overlapping_is_ignored():
    facts = [
        fact("placed", "absolute_absence", date(2025, 10, 1), placed=date(2025, 10, 29)),  # 28 days
        fact("before", "absolute_absence", date(2024, 1, 1), placed=date(2025, 7, 31)),  # ended before
        fact("after", "absolute_absence", date(2026, 8, 1)),  # starts next year
        fact("old", "exemption_other", date(2024, 1, 1)),  # open since last year: overlaps
    ]
    later = date(2026, 9, 30)  # a day after the year: duration is cut at 2026-07-31
    by_category, by_duration = count_homebound(facts, YEAR, later)
    assert by_category["absolute_absence"] == 1 and by_category["exemption_other"] == 1
    assert by_duration == {"under_4_weeks": 0, "4_weeks_to_3_months": 1, "over_3_months": 1}


def test_small_cells_are_suppressed_and_zero_stays_zero():
    [cells] = suppress([{"a": 0, "b": 3, "c": 4, "d": 12}])
    assert cells == {"a": 0, "b": "<5", "c": "<5", "d": 12}


def test_a_single_small_cell_gets_a_complementary_cell_withheld():
    categories, durations = suppress([{"a": 3, "b": 7, "c": 10, "d": 0}, {"x": 5, "y": 15}])
    assert categories == {"a": "<5", "b": None, "c": 10, "d": 0}
    assert durations == {"x": 5, "y": 15}
    # with the total (20) known from the durations, a and b stay hidden: only their sum is known


def test_complementary_suppression_propagates_to_the_other_grouping():
    categories, durations = suppress([{"a": 6, "b": 6}, {"x": 2, "y": 10}])
    assert durations == {"x": "<5", "y": None}
    assert categories == {"a": 6, "b": 6}
