"""Tables of the consent registry: consents and their append-only status history.

The child appears only as its consent-domain pseudonym; the date of birth and the evidence
reference are sealed (AES-GCM, the consent id as associated data). The index on
(subject_ref, purpose) makes the exchange pipeline's consent check one index lookup.
Nothing here is ever deleted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class ConsentRow(Base):
    """A recorded consent; ``seq`` orders search pages, ``id`` is the public id."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_subject_purpose", "subject_ref", "purpose"),)

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    subject_ref: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(40))
    parties: Mapped[list] = mapped_column(JSON)
    grantor_roles: Mapped[list] = mapped_column(JSON)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    evidence_method: Mapped[str] = mapped_column(String(20))
    recorded_by_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    recorded_by_client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    recorded_by_user: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    superseded_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    key_version: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    receipt: Mapped[str] = mapped_column(Text)


class ConsentStatusRow(Base):
    """One act in a consent's life: recorded, withdrawn (with role and sealed reason) or
    superseded (naming the successor). Rows are only ever inserted."""

    __tablename__ = "consent_status_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    actor_client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    actor_user: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    related_consent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    key_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sealed_reason: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
