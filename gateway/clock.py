"""Time, injectable: services take a ``Clock`` so tests can move it without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime, timezone: str = "Europe/Amsterdam") -> date:
    """"Today" in the contract is the date in Europe/Amsterdam (API.md section 1)."""
    return moment.astimezone(ZoneInfo(timezone)).date()
