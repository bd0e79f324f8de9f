"""The indicators answer: facts in the caller's scope, counted and suppressed."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

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


class PactIndicatorSource(Protocol):
    """The pact's own indicators (``gateway.pact.indicators.PactIndicators``), handed in by
    the composition root: the pact reads monitoring facts, so monitoring may not import it."""

    def pact(self, session: Session, year: SchoolYear, org_id: int | None, today: date) -> dict:
        """The ``pact`` member for ``year`` in ``org_id``'s scope (None: everything)."""
        ...

    def charts(self, session: Session, year: SchoolYear, org_id: int | None, today: date):
        """The same, with the dashboard's monthly series (suppressed together with it)."""
        ...


class MonitoringService:
    def __init__(
        self,
        db: Database,
        config: dict,
        clock: Clock,
        timezone: str,
        pact: PactIndicatorSource | None = None,
    ) -> None:
        """``pact`` None leaves the ``pact`` member out: only a unit test builds the service
        without it; the composition root always passes it, so the API never omits it."""
        self.db = db
        self.config = config
        self.clock = clock
        self.timezone = timezone
        self.pact = pact

    def year(self, school_year: str | None) -> tuple[SchoolYear, date]:
        """The asked school year (default: the current one) and today's local date."""
        today = local_date(self.clock(), self.timezone)
        year = SchoolYear.parse(school_year) if school_year else SchoolYear.containing(today)
        return year, today

    def pact_charts(self, school_year: str | None, org_id: int | None):
        """The pact indicators with their monthly series, for the dashboard's charts."""
        if self.pact is None:
            return None
        year, today = self.year(school_year)
        with self.db.session() as session:
            return self.pact.charts(session, year, org_id, today)

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
            pact = None if self.pact is None else self.pact.pact(session, year, org_id, today)
        by_category, by_duration = count_homebound(facts, year, today)
        categories, durations = suppress([by_category, by_duration])
        answer = {
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
        if pact is not None:
            answer["pact"] = pact
        return answer
