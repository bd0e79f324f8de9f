"""A test run that starts just before midnight in Europe/Amsterdam waits for it.

Test modules take the contract's today (``tests.exchange_helpers.today``, Europe/Amsterdam)
when they are imported, and the servers they start take theirs when they answer. A run that
crosses Amsterdam's midnight therefore sends yesterday's dates to today's clock: a pact
escalation found 51 days at home where the test, dated at import, expected 50 (a full run
started at 22:44 UTC, and the pact tests ran after 23:00 UTC, Amsterdam's midnight in
winter). ``make test`` sets ``GATEWAY_TEST_MIDNIGHT_MARGIN_MINUTES`` (a whole run's length);
a run started closer than that to the midnight waits for it before anything is imported.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
AFTER = timedelta(seconds=5)


def seconds_to_wait(now: datetime, margin: timedelta) -> float:
    """How long a run starting at ``now`` (aware) waits: until just after the next midnight in
    Amsterdam when that is less than ``margin`` away, else 0."""
    local = now.astimezone(AMSTERDAM)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), AMSTERDAM)
    left = midnight - local
    if left >= margin:
        return 0.0
    return (left + AFTER).total_seconds()
