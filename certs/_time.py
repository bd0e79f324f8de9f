"""Time helpers: certificate validity is always compared in timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime | None) -> datetime:
    """Return ``moment`` as aware UTC; ``None`` means now and naive values are taken as UTC.

    Callers inject ``now`` in tests; accepting naive datetimes (as UTC) avoids the
    ``TypeError`` that comparing naive and aware datetimes would otherwise raise.
    """
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
