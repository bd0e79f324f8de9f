"""Retractions and notices (issue 19): placeholder, filled by the retraction work.

Revision ID: 0014_retractions
Revises: 0013_retention
"""

revision = "0014_retractions"
down_revision = "0013_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
