"""The re-identification request table: the pseudonym, never the BSN."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class ReidentificationRequestRow(Base):
    """One request: who asked, about which of its own pseudonyms, why, and what became of it.

    The BSN is revealed from ``pseudonym`` only in the one read that consumes an approval;
    ``subject_ref`` (the audit-domain pseudonym) names the child in the audit events.
    """

    __tablename__ = "reidentification_requests"
    __table_args__ = (
        Index("ix_reidentification_requests_status", "status", "created_at"),
        # the retention purge asks, per child, whether a request about it is still kept
        Index("ix_reidentification_requests_subject_ref", "subject_ref"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    requester_org: Mapped[str] = mapped_column(String(20))
    requester_client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    requester_user: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pseudonym: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decided_by_client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_by_user: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
