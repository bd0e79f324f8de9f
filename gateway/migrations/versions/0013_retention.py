"""Retention for everything (issue 19): no schema change.

Revision ID: 0013_retention
Revises: 0012_exchange_keyed

The retention terms are data in ``gateway/policies/retention.yaml``, read and validated at
start (``gateway/retention/policy.py``), like the signal policy; the purge
(``gateway retention purge``) erases rows and nulls existing nullable columns
(``audit_events.subject_ref``, ``subject_opening``, ``subject_clear_to``,
``subject_pseudonym_to``) and finds the events to shred over ``ix_audit_events_at`` and the
primary key. The revision stays so that 0014 keeps its fixed place after it.
"""

revision = "0013_retention"
down_revision = "0012_exchange_keyed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
