"""Audit tables: the events (their canonical JSON is what is hashed), the chain head, the
stored Merkle tree nodes and the signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base

BIG = BigInteger().with_variant(Integer(), "sqlite")


class AuditEventRow(Base):
    """One event; ``canonical`` is the RFC 8785 JSON of the event without ``hash``.

    The columns beside it exist for filtering; the API answers from ``canonical`` so that what
    anyone re-hashes is exactly what was hashed. ``subject_ref`` (the child's global audit
    pseudonym) is not in ``canonical``: the hashed event holds a per-event commitment to it,
    opened by ``subject_opening`` (docs/audit-design.md).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_subject_ref", "subject_ref"),
        Index("ix_audit_events_exchange_id", "exchange_id"),
        Index("ix_audit_events_actor_org_seq", "actor_org", "seq"),
        Index("ix_audit_events_sender_seq", "sender", "seq"),
        Index("ix_audit_events_recipient_seq", "recipient", "seq"),
        Index("ix_audit_events_case_id", "case_id"),
    )

    seq: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(60))
    actor_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sender: Mapped[str | None] = mapped_column(String(20), nullable=True)
    recipient: Mapped[str | None] = mapped_column(String(20), nullable=True)
    message_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision: Mapped[str] = mapped_column(String(10))
    exchange_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subject_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # the opening of the hashed subject_commitment (operator readers only; erased on shredding)
    subject_opening: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # ",oin,oin,": who named the child's BSN in this event or received it in clear
    subject_clear_to: Mapped[str | None] = mapped_column(String(400), nullable=True)
    # ",oin,oin,": who named the child by its own pseudonym here, or received that pseudonym
    subject_pseudonym_to: Mapped[str | None] = mapped_column(String(400), nullable=True)
    steps: Mapped[str | None] = mapped_column(String(400), nullable=True)
    # the internal id of the pact case the event belongs to (issue 20): groups a case's events
    # for the operator's pages; not hashed and never served to a partner, so no partner can
    # link two organisations' views of one case by it
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    canonical: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A single row holding the last ``seq`` and ``hash``; updating it first in a transaction
    serialises appends (row lock on PostgreSQL, the write lock on SQLite) so that ``seq`` is
    gap-free and the chain never forks. Checkpoints are made under the same lock."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BIG)
    hash: Mapped[str] = mapped_column(String(64))


class AuditTreeNode(Base):
    """The hash of one perfect subtree of the RFC 9162 tree: level 0 are the leaf hashes,
    index ``idx`` at ``level`` covers leaves ``[idx * 2**level, (idx + 1) * 2**level)``.

    Written when a checkpoint extends the tree, so every inclusion or consistency proof for a
    signed tree size reads O(log^2 n) rows and never re-hashes the log.
    """

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpointRow(Base):
    """A signed checkpoint: the tree of the first ``tree_size`` events, its root and time, and
    the C2SP signed note that states them."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key_id: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)


class AuditLegacyChain(Base):
    """What the pre-v1.1 chain had signed, kept for the operator when migration 0010 re-chained
    the log into the commitment form: its checkpoints (``tree_size``, ``root_hash``, ``note``)
    and its last head (``head_hash`` at the old head's ``tree_size``)."""

    __tablename__ = "audit_legacy_chain"

    tree_size: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    root_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
