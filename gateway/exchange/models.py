"""Tables of the exchange area: route policies, stored messages, idempotency keys and the
recipient each sender's transaction id was passed on to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON, Boolean, DateTime, Integer, LargeBinary, String, Text

from ..storage.models import Base, utcnow


class RoutePolicyRow(Base):
    """One allowed route; the key is (message_type, sender_type, recipient_type)."""

    __tablename__ = "route_policies"
    __table_args__ = (UniqueConstraint("message_type", "sender_type", "recipient_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_type: Mapped[str] = mapped_column(String(40))
    sender_type: Mapped[str] = mapped_column(String(20))
    recipient_type: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(40))
    legal_basis_type: Mapped[str] = mapped_column(String(20))
    citation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    identity: Mapped[str] = mapped_column(String(10))
    profile: Mapped[dict] = mapped_column(JSON)
    retention_days: Mapped[int] = mapped_column(Integer)
    polymorphic: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Message(Base):
    """An accepted exchange. The payload (with the subject as delivered) is encrypted at rest
    and erased on acknowledgement; the metadata stays for the audit trail."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_inbox", "recipient_org_id", "status", "seq"),
        Index("ix_messages_subject_ref", "subject_ref"),
        Index("ix_messages_outbox", "status", "next_attempt_at"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    message_type: Mapped[str] = mapped_column(String(40))
    sender_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    sender_client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    purpose: Mapped[str] = mapped_column(String(40))
    legal_basis: Mapped[dict] = mapped_column(JSON)
    consent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subject_ref: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    dead_lettered_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    fsc_transaction_id: Mapped[str] = mapped_column(String(36))
    key_version: Mapped[int] = mapped_column(Integer)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    retain_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # polymorphic mode: the child's link tag sealed under a key derived from the master secret
    # (gateway.pep.sealing; never the raw t*M, which every partner's link secret could test
    # BSNs against) and the encrypted pseudonym as delivered (a reply's equality proof is
    # checked against it)
    pep_link: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pep_delivered: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # push delivery (gateway.delivery): this row is also the outbox entry
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # the role address the sender used instead of an OIN (issue 20), as sent; null for a send
    # by OIN. Kept here, not in the hashed audit document (docs/pact-workflows.md 6.1)
    recipient_address: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class IdempotencyKey(Base):
    """A sender's ``Idempotency-Key`` and the 202 answer stored under it (kept >= 24 h)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("org_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    key: Mapped[str] = mapped_column(String(128))
    # "<key version>:<hex HMAC-SHA256>" under a key derived from the master secret, never a bare
    # hash: the body names the child, and a bare hash could be tested against guessed BSNs
    request_hash: Mapped[str] = mapped_column(String(80))
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TransactionRecipient(Base):
    """The one recipient organisation a sender's ``Fsc-Transaction-Id`` was passed on to.

    API.md section 13 rule 1: a correlation id reaches one recipient only, or two recipients
    could join their records on it. The primary key (sender, id) makes a concurrent send of
    the same id to another recipient fail in the database, so a race ends in one 202 and one
    409, whichever process runs it.
    """

    __tablename__ = "exchange_transactions"

    sender_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    fsc_transaction_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Retraction(Base):
    """A sender took an exchange back (issue 19; AVG articles 16, 17 and 19).

    One row per retracted exchange (the exchange id is unique), so a repeated retraction
    answers this row. It is also the breach register's entry: what was retracted and why,
    between whom, when, whether the recipient had already received it (``recipient_status``
    at the moment of retraction), the notice that told the recipient, and when the recipient
    confirmed it erased its copy. ``remarks`` is the sender's note for the operator's
    privacy officer, never passed on.
    """

    __tablename__ = "retractions"
    __table_args__ = (Index("ix_retractions_open", "confirmed_at", "retracted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[str] = mapped_column(String(36), unique=True)
    message_type: Mapped[str] = mapped_column(String(40))
    sender_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reason: Mapped[str] = mapped_column(String(40))
    remarks: Mapped[str | None] = mapped_column(Text, nullable=True)
    retracted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retracted_by_client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    recipient_status: Mapped[str] = mapped_column(String(20))
    payload_erased: Mapped[bool] = mapped_column(Boolean)
    notice_id: Mapped[str] = mapped_column(String(36))
    corrected_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    audit_seq: Mapped[int] = mapped_column(Integer)
    audit_hash: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmed_by_client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
