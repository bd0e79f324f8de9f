"""Time, injectable: services take a ``Clock`` so tests can move it without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime. SQLite hands back naive datetimes for
    timezone-aware columns; everything the gateway stores is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def local_date(moment: datetime, timezone: str = "Europe/Amsterdam") -> date:
    """ "Today" in the contract is the date in Europe/Amsterdam (API.md section 1)."""
    return moment.astimezone(ZoneInfo(timezone)).date()
