"""Tables of the signals area: signals and the matches made between them.

A signal names the child only by its match-domain pseudonym, indexed with the status so
that matching is one index lookup. A match row remembers that a pair of organisations was
told about each other for one child; it stays ``live`` (``ended_at`` null) while both keep
an open signal, which is what stops a second ``signal_match`` for the same pair.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON, DateTime, LargeBinary, String

from ..storage.models import Base


class SignalRow(Base):
    """ "My organisation is involved with this child" (category for the sender's records)."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_match_ref_status", "match_ref", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    match_ref: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(20))
    contact: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # polymorphic mode: the signal's ciphertext under the master key, to tell matches by pseudonym
    pep_subject: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class SignalMatchRow(Base):
    """Two organisations told about each other for one child; ``first_org_id`` is the lower
    organisation id, so a pair has one spelling."""

    __tablename__ = "signal_matches"
    __table_args__ = (
        UniqueConstraint("first_signal_id", "second_signal_id"),
        Index("ix_signal_matches_match_ref", "match_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    match_ref: Mapped[str] = mapped_column(String(128))
    first_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    second_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    first_signal_id: Mapped[str] = mapped_column(ForeignKey("signals.id"))
    second_signal_id: Mapped[str] = mapped_column(ForeignKey("signals.id"))
    first_message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    second_message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    matched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
