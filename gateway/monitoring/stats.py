"""Exchanges and refusals per day, by route and by refusal reason, for the dashboard.

Computed from the audit log (``exchange.send`` events), because every send decision is there
and nowhere else: accepted ones as ``allowed``, refusals as ``denied`` with their code. Days
are local days (Europe/Amsterdam), which SQL date functions would get wrong around midnight
and differently on SQLite and PostgreSQL, so rows of the window are read in one query and
grouped here. The refusal code lives only in the event's canonical JSON, which is parsed for
denied events alone.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..audit.models import AuditEventRow
from ..audit.search import partner_visibility
from ..clock import Clock, local_date
from ..storage.database import Database
from ..storage.models import Organisation

DEFAULT_DAYS = 14


@dataclass
class DailySeries:
    """Counts per day (``days`` oldest first): one list per route and one per reason."""

    days: list[date]
    by_route: dict[str, list[int]] = field(default_factory=dict)
    by_reason: dict[str, list[int]] = field(default_factory=dict)

    @property
    def exchanges(self) -> int:
        return sum(sum(values) for values in self.by_route.values())

    @property
    def refusals(self) -> int:
        return sum(sum(values) for values in self.by_reason.values())


class ExchangeStats:
    def __init__(self, db: Database, clock: Clock, timezone: str) -> None:
        self.db = db
        self.clock = clock
        self.zone = ZoneInfo(timezone)

    def window(self, days: int) -> tuple[list[date], datetime]:
        today = local_date(self.clock(), self.zone.key)
        first = today - timedelta(days=days - 1)
        return [first + timedelta(days=n) for n in range(days)], datetime.combine(
            first, time.min, self.zone
        )

    def daily(self, org_oin: str | None = None, days: int = DEFAULT_DAYS) -> DailySeries:
        """Accepted exchanges by route and refusals by reason; ``org_oin`` limits the counts
        to exchanges that organisation sent or was sent (None: everything, the operator)."""
        day_list, start = self.window(days)
        index = {day: n for n, day in enumerate(day_list)}
        query = select(
            AuditEventRow.at,
            AuditEventRow.message_type,
            AuditEventRow.sender,
            AuditEventRow.recipient,
            AuditEventRow.decision,
            AuditEventRow.canonical,
        ).where(AuditEventRow.action == "exchange.send", AuditEventRow.at >= start)
        if org_oin:  # what that organisation's audit view holds: never a refusal sent its way
            query = query.where(partner_visibility(org_oin))
        with self.db.session() as session:
            types = dict(session.execute(select(Organisation.oin, Organisation.type)).all())
            rows = session.execute(query).all()
        series = DailySeries(day_list)
        by_route: dict[str, list[int]] = defaultdict(lambda: [0] * days)
        by_reason: dict[str, list[int]] = defaultdict(lambda: [0] * days)
        for at, message_type, sender, recipient, decision, canonical in rows:
            moment = at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC"))
            slot = index.get(moment.astimezone(self.zone).date())
            if slot is None:
                continue
            if decision == "allowed":
                route = route_label(message_type, types.get(sender), types.get(recipient))
                by_route[route][slot] += 1
            else:
                reason = json.loads(canonical).get("reason") or "onbekend"
                by_reason[reason][slot] += 1
        series.by_route = dict(sorted(by_route.items()))
        series.by_reason = dict(sorted(by_reason.items()))
        return series


def route_label(
    message_type: str | None, sender_type: str | None, recipient_type: str | None
) -> str:
    return f"{message_type or '?'} ({sender_type or '?'} → {recipient_type or '?'})"
