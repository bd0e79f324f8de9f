"""Retention for everything (issue 19): two indexes for the purge.

Revision ID: 0013_retention
Revises: 0012_exchange_keyed

The retention terms are data in ``gateway/policies/retention.yaml``, read and validated at
start (``gateway/retention/policy.py``), like the signal policy; the purge
(``gateway retention purge``) erases rows and nulls existing nullable columns
(``audit_events.subject_ref``, ``subject_opening``, ``subject_clear_to``,
``subject_pseudonym_to``) and finds the events to shred over ``ix_audit_events_at`` and the
primary key. Before shredding a child's audit references it asks whether any other record of
that child is still kept; ``reidentification_requests`` and ``monitoring_facts`` get an index
on ``subject_ref`` for that question (the other tables had one).
"""

from alembic import op

revision = "0013_retention"
down_revision = "0012_exchange_keyed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_reidentification_requests_subject_ref", "reidentification_requests", ["subject_ref"]
    )
    op.create_index("ix_monitoring_facts_subject_ref", "monitoring_facts", ["subject_ref"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_facts_subject_ref", table_name="monitoring_facts")
    op.drop_index(
        "ix_reidentification_requests_subject_ref", table_name="reidentification_requests"
    )
