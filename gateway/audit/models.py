"""Audit tables: the events (their canonical JSON is what is hashed) and the chain head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class AuditEventRow(Base):
    """One event; ``canonical`` is the RFC 8785 JSON of the event without ``hash``.

    The columns beside it exist for filtering; the API answers from ``canonical`` so that what
    anyone re-hashes is exactly what was hashed.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_subject_ref", "subject_ref"),
        Index("ix_audit_events_exchange_id", "exchange_id"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(60))
    actor_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sender: Mapped[str | None] = mapped_column(String(20), nullable=True)
    recipient: Mapped[str | None] = mapped_column(String(20), nullable=True)
    message_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision: Mapped[str] = mapped_column(String(10))
    exchange_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subject_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    steps: Mapped[str | None] = mapped_column(String(400), nullable=True)
    canonical: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A single row holding the last ``seq`` and ``hash``; updating it first in a transaction
    serialises appends (row lock on PostgreSQL, the write lock on SQLite) so that ``seq`` is
    gap-free and the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
