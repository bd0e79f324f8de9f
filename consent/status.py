"""A consent's status at a moment, derived from its dates and history.

Derived, not stored, so that a consent expires or becomes active at midnight without a job
that updates rows, and every process agrees on it by reading the same database. Validity
dates are inclusive calendar days in the gateway's time zone (API.md: "today" is the date
in Europe/Amsterdam).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from .records import Consent

ACTIVE = "active"
PENDING = "pending"
EXPIRED = "expired"
WITHDRAWN = "withdrawn"
SUPERSEDED = "superseded"

DEFAULT_TIMEZONE = "Europe/Amsterdam"


def local_day(moment: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    """The calendar day of ``moment`` (an aware datetime) in ``timezone``."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def status_at(consent: Consent, at: datetime, timezone: str = DEFAULT_TIMEZONE) -> str:
    """``withdrawn`` and ``superseded`` (acts) win over the dates; then ``pending`` before
    ``valid_from``, ``expired`` after ``valid_until``, otherwise ``active``."""
    if consent.withdrawn_at is not None and consent.withdrawn_at <= at:
        return WITHDRAWN
    if consent.superseded_at is not None and consent.superseded_at <= at:
        return SUPERSEDED
    day = local_day(at, timezone)
    if day < consent.valid_from:
        return PENDING
    if day > consent.valid_until:
        return EXPIRED
    return ACTIVE
