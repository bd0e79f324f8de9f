"""Logboek Dataverwerkingen (issue 22 section 2): the outbox of records not yet confirmed by
the Logboek.

Revision ID: 0018_logboek
Revises: 0017_federation

A row is written in the transaction of the processing it describes and deleted once the
Logboek confirmed it (gateway/logboek/exporter.py); the table is a queue, not a history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_logboek"
down_revision = "0017_federation"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "logboek_records",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16), nullable=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("start_ns", sa.BigInteger, nullable=False),
        sa.Column("end_ns", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("activity", sa.String(400), nullable=True),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("subject_type", sa.String(60), nullable=True),
        sa.Column("foreign_trace_id", sa.String(32), nullable=True),
        sa.Column("foreign_span_id", sa.String(16), nullable=True),
        sa.Column("foreign_entity", sa.String(200), nullable=True),
        sa.Column("audit_seq", BIG, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("logboek_records")
