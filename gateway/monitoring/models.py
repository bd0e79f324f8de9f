"""Monitoring facts: what the indicators need from a report, kept after its payload is erased.

A fact holds the child's audit-domain pseudonym, the category and the dates of a
``homebound_report`` (or the absence type of an ``absence_report``), the education sector and
the birth year, never a BSN or free text.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class MonitoringFact(Base):
    __tablename__ = "monitoring_facts"
    __table_args__ = (
        Index("ix_monitoring_facts_kind_since", "kind", "since_date"),
        # the retention purge asks, per child, whether a fact about it is still kept
        Index("ix_monitoring_facts_subject_ref", "subject_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject_ref: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(40))
    since_date: Mapped[date] = mapped_column(Date)
    placed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # what an escalation's minimal dataset names (issue 20, design 5.2) after the report's
    # payload is erased by its acknowledgement: categories, never free text
    education_sector: Mapped[str | None] = mapped_column(String(10), nullable=True)
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sender_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MonitoringAlert(Base):
    """An alert sent for one report and one norm (so a re-run sends nothing twice)."""

    __tablename__ = "monitoring_alerts"
    __table_args__ = (UniqueConstraint("fact_id", "alert"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fact_id: Mapped[int] = mapped_column(ForeignKey("monitoring_facts.id"))
    alert: Mapped[str] = mapped_column(String(40))
