"""Retention for everything (issue 19): placeholder, filled by the retention work.

Revision ID: 0013_retention
Revises: 0012_exchange_keyed
"""

revision = "0013_retention"
down_revision = "0012_exchange_keyed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
