"""The indicators answer: facts in the caller's scope, counted and suppressed."""

from __future__ import annotations

from sqlalchemy import or_, select

from ..audit.log import rfc3339
from ..clock import Clock, local_date
from ..storage.database import Database
from .indicators import (
    THRESHOLD,
    HomeboundFact,
    SchoolYear,
    count_homebound,
    suppress,
)
from .models import MonitoringFact


class MonitoringService:
    def __init__(self, db: Database, config: dict, clock: Clock, timezone: str) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.timezone = timezone

    def indicators(self, school_year: str | None, org_id: int | None) -> dict:
        """``org_id`` None means everything (the operator); otherwise the reports that
        organisation sent or received."""
        now = self.clock()
        today = local_date(now, self.timezone)
        year = SchoolYear.parse(school_year) if school_year else SchoolYear.containing(today)
        query = select(
            MonitoringFact.subject_ref,
            MonitoringFact.category,
            MonitoringFact.since_date,
            MonitoringFact.placed_date,
            MonitoringFact.reported_at,
        ).where(MonitoringFact.kind == "homebound", MonitoringFact.since_date <= year.end)
        if org_id is not None:
            query = query.where(
                or_(
                    MonitoringFact.sender_org_id == org_id,
                    MonitoringFact.recipient_org_id == org_id,
                )
            )
        with self.db.session() as session:
            facts = [HomeboundFact(*row) for row in session.execute(query)]
        by_category, by_duration = count_homebound(facts, year, today)
        categories, durations = suppress([by_category, by_duration])
        return {
            "school_year": year.label,
            "generated_at": rfc3339(now),
            "suppression_threshold": THRESHOLD,
            "homebound": {"by_category": categories, "by_duration": durations},
            "absolute_absence": categories["absolute_absence"],
            "long_relative_absence": categories["long_relative_absence"],
            "exemptions_5a": categories["exemption_5a"],
            "baseline": dict(self.config["baseline"]),
            "targets": dict(self.config["targets"]),
        }
