"""Retractions and notices (issue 19): the ``retractions`` table.

Revision ID: 0014_retractions
Revises: 0013_retention

A sender's retraction of an exchange, which is also the breach register's entry for the
operator's privacy officer (gateway.exchange.models.Retraction). The notices themselves
(``retraction``, ``consent_withdrawn``) are rows of ``messages``, so they need no table: they
are pulled, pushed, acknowledged and kept like every inbox item.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_retractions"
down_revision = "0013_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retractions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exchange_id", sa.String(36), nullable=False, unique=True),
        sa.Column("message_type", sa.String(40), nullable=False),
        sa.Column("sender_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column(
            "recipient_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("remarks", sa.Text, nullable=True),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retracted_by_client_id", sa.String(100), nullable=True),
        sa.Column("recipient_status", sa.String(20), nullable=False),
        sa.Column("payload_erased", sa.Boolean, nullable=False),
        sa.Column("notice_id", sa.String(36), nullable=False),
        sa.Column("corrected_by", sa.String(36), nullable=True),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("audit_hash", sa.String(64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_client_id", sa.String(100), nullable=True),
    )
    op.create_index("ix_retractions_open", "retractions", ["confirmed_at", "retracted_at"])


def downgrade() -> None:
    op.drop_index("ix_retractions_open", table_name="retractions")
    op.drop_table("retractions")
