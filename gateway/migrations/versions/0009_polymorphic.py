"""Polymorphic pseudonymisation: who takes part, which routes allow it, what is kept.

Revision ID: 0009_polymorphic
Revises: 0008_monitoring
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_polymorphic"
down_revision = "0008_monitoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(
            sa.Column("polymorphic", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("route_policies") as batch:
        batch.add_column(
            sa.Column("polymorphic", sa.Boolean, nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("pep_link", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("pep_delivered", sa.LargeBinary, nullable=True))
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("pep_subject", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signals") as batch:
        batch.drop_column("pep_subject")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("pep_delivered")
        batch.drop_column("pep_link")
    with op.batch_alter_table("route_policies") as batch:
        batch.drop_column("polymorphic")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("polymorphic")
