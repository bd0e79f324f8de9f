"""Exchanges: route policies (seeded with the shipped defaults), messages, idempotency keys,
and the hash-chained audit log with its head row.

Revision ID: 0003_exchanges
Revises: 0002_oauth
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_exchanges"
down_revision = "0002_oauth"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    _route_policies()
    _messages()
    _idempotency_keys()
    _audit_log()


def _route_policies() -> None:
    """The route policies, seeded with the shipped defaults."""
    from gateway.exchange.routes import shipped_route_rows

    routes = op.create_table(
        "route_policies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_type", sa.String(40), nullable=False),
        sa.Column("sender_type", sa.String(20), nullable=False),
        sa.Column("recipient_type", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("legal_basis_type", sa.String(20), nullable=False),
        sa.Column("citation", sa.String(200), nullable=True),
        sa.Column("identity", sa.String(10), nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.Column("retention_days", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("message_type", "sender_type", "recipient_type"),
    )
    now = datetime.now(UTC)
    # the shipped rows as this revision's columns knew them (later revisions add columns)
    columns = set(routes.columns.keys())
    op.bulk_insert(
        routes,
        [
            {k: v for k, v in dict(row, updated_at=now).items() if k in columns}
            for row in shipped_route_rows()
        ],
    )


def _messages() -> None:
    op.create_table(
        "messages",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("message_type", sa.String(40), nullable=False),
        sa.Column("sender_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column(
            "recipient_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("sender_client_id", sa.String(100), nullable=True),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("legal_basis", sa.JSON, nullable=False),
        sa.Column("consent_id", sa.String(36), nullable=True),
        sa.Column("subject_ref", sa.String(128), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fsc_transaction_id", sa.String(36), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_messages_inbox", "messages", ["recipient_org_id", "status", "seq"])
    op.create_index("ix_messages_subject_ref", "messages", ["subject_ref"])


def _idempotency_keys() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_id", "key"),
    )


def _audit_log() -> None:
    """The hash-chained audit events and the head row naming the last one."""
    op.create_table(
        "audit_events",
        sa.Column("seq", BIG, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("actor_org", sa.String(20), nullable=True),
        sa.Column("sender", sa.String(20), nullable=True),
        sa.Column("recipient", sa.String(20), nullable=True),
        sa.Column("message_type", sa.String(40), nullable=True),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("exchange_id", sa.String(36), nullable=True),
        sa.Column("subject_ref", sa.String(128), nullable=True),
        sa.Column("steps", sa.String(400), nullable=True),
        sa.Column("canonical", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_subject_ref", "audit_events", ["subject_ref"])
    op.create_index("ix_audit_events_exchange_id", "audit_events", ["exchange_id"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", BIG, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_events")
    op.drop_table("idempotency_keys")
    op.drop_table("messages")
    op.drop_table("route_policies")
