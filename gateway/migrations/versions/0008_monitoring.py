"""Monitoring facts for the pact indicators.

Revision ID: 0008_monitoring
Revises: 0007_web
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_monitoring"
down_revision = "0007_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_facts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject_ref", sa.String(128), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("since_date", sa.Date, nullable=False),
        sa.Column("placed_date", sa.Date, nullable=True),
        sa.Column("sender_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column(
            "recipient_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_monitoring_facts_kind_since", "monitoring_facts", ["kind", "since_date"])
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("fact_id", sa.Integer, sa.ForeignKey("monitoring_facts.id"), nullable=False),
        sa.Column("alert", sa.String(40), nullable=False),
        sa.UniqueConstraint("fact_id", "alert"),
    )


def downgrade() -> None:
    op.drop_table("monitoring_alerts")
    op.drop_table("monitoring_facts")
