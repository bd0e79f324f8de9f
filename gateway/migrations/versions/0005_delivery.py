"""Push delivery: the ``messages`` row is the outbox row.

A message is stored in the same transaction as its ``exchange.send`` audit event, so making the
row itself the outbox entry keeps "outbox row, message and audit record in one transaction" true
by construction. These columns carry the delivery state: how many attempts were made, when the
next one is due (also the lease of a worker that claimed the row), which worker holds the lease,
and the last error (a status code or an exception class, never payload).

Revision ID: 0005_delivery
Revises: 0004_consent
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_delivery"
down_revision = "0004_consent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_token", sa.String(32), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(200), nullable=True))
    op.create_index("ix_messages_outbox", "messages", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_outbox", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("last_error")
        batch.drop_column("lease_token")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
