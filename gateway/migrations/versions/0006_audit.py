"""Verifiable audit log (Merkle tree nodes, signed checkpoints, search indexes) and
re-identification requests.

Revision ID: 0006_audit
Revises: 0005_delivery
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_audit"
down_revision = "0005_delivery"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("ix_audit_events_actor_org_seq", "audit_events", ["actor_org", "seq"])
    op.create_index("ix_audit_events_sender_seq", "audit_events", ["sender", "seq"])
    op.create_index("ix_audit_events_recipient_seq", "audit_events", ["recipient", "seq"])
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", BIG, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", BIG, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "reidentification_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("requester_org", sa.String(20), nullable=False),
        sa.Column("requester_client_id", sa.String(100), nullable=True),
        sa.Column("requester_user", sa.String(200), nullable=True),
        sa.Column("pseudonym", sa.String(128), nullable=False),
        sa.Column("subject_ref", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_org", sa.String(20), nullable=True),
        sa.Column("decided_by_client_id", sa.String(100), nullable=True),
        sa.Column("decided_by_user", sa.String(200), nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_reidentification_requests_status",
        "reidentification_requests",
        ["status", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_reidentification_requests_status", "reidentification_requests")
    op.drop_table("reidentification_requests")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_tree_nodes")
    op.drop_index("ix_audit_events_recipient_seq", "audit_events")
    op.drop_index("ix_audit_events_sender_seq", "audit_events")
    op.drop_index("ix_audit_events_actor_org_seq", "audit_events")
