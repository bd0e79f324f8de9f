"""A run started just before Amsterdam's midnight waits for it (tests/run_dates.py)."""

from datetime import UTC, datetime, timedelta

from tests.run_dates import seconds_to_wait

HALF_HOUR = timedelta(minutes=30)


def test_a_run_that_would_cross_amsterdams_midnight_waits_until_just_after_it():
    # 22:44 UTC in December is 23:44 in Amsterdam: 16 minutes to its midnight
    assert seconds_to_wait(datetime(2026, 12, 7, 22, 44, tzinfo=UTC), HALF_HOUR) == 16 * 60 + 5


def test_a_run_with_a_whole_margin_left_starts_at_once():
    assert seconds_to_wait(datetime(2026, 12, 7, 22, 30, tzinfo=UTC), HALF_HOUR) == 0
    assert seconds_to_wait(datetime(2026, 12, 7, 23, 1, tzinfo=UTC), HALF_HOUR) == 0  # just after


def test_summer_time_moves_the_midnight_to_22_utc():
    assert seconds_to_wait(datetime(2026, 7, 1, 21, 50, tzinfo=UTC), HALF_HOUR) == 10 * 60 + 5
    assert seconds_to_wait(datetime(2026, 7, 1, 22, 50, tzinfo=UTC), HALF_HOUR) == 0
