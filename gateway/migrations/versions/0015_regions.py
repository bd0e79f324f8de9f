"""Regions and the areas organisations serve (issue 20): ``regions``,
``region_municipalities``, ``organisation_areas`` and ``messages.recipient_address``.

Revision ID: 0015_regions
Revises: 0014_retractions

The regional configuration of docs/pact-workflows.md section 6.2 (gateway.registry.models):
a pact region's municipalities, homebound norm and holder of doorzettingsmacht, and the
municipalities or regions each organisation serves, through which a role address resolves.
``messages.recipient_address`` keeps the role address a sender used (JSON, null for a send by
OIN); it is not part of the hashed audit document (section 6.1, OPEN-18).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_regions"
down_revision = "0014_retractions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("homebound_norm_days", sa.Integer, nullable=False),
        sa.Column(
            "escalation_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=True
        ),
        sa.Column("escalation_basis", sa.String(300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "region_municipalities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("region_id", sa.Integer, sa.ForeignKey("regions.id"), nullable=False),
        sa.Column("municipality", sa.String(4), nullable=False, unique=True),
    )
    op.create_index("ix_region_municipalities_region_id", "region_municipalities", ["region_id"])
    op.create_table(
        "organisation_areas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("sectors", sa.JSON, nullable=True),
        sa.UniqueConstraint("org_id", "kind", "code"),
    )
    op.create_index("ix_organisation_areas_org_id", "organisation_areas", ["org_id"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("recipient_address", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("recipient_address")
    op.drop_index("ix_organisation_areas_org_id", table_name="organisation_areas")
    op.drop_table("organisation_areas")
    op.drop_index("ix_region_municipalities_region_id", table_name="region_municipalities")
    op.drop_table("region_municipalities")
    op.drop_table("regions")
