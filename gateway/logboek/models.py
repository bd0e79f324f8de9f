"""The Logboek outbox: records not yet confirmed by the Logboek (deleted once confirmed)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base

BIG = BigInteger().with_variant(Integer(), "sqlite")


class LogboekRecordRow(Base):
    """One data processing as the Logboek will receive it (no BSN, no pseudonym in clear:
    ``subject`` is :mod:`gateway.logboek.subject`'s ciphertext)."""

    __tablename__ = "logboek_records"

    id: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=True)
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    parent_span_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    name: Mapped[str] = mapped_column(String(64))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))
    """``unset``, ``ok`` or ``error`` (the standard's status_code)."""
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The refusal's problem code (a code, never free text)."""
    activity: Mapped[str | None] = mapped_column(String(400), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    subject_type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    foreign_trace_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    foreign_span_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    foreign_entity: Mapped[str | None] = mapped_column(String(200), nullable=True)
    audit_seq: Mapped[int | None] = mapped_column(BIG, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
