"""Federated sign-in (issue 21): registered identity providers, the organisations' BRIN and
KvK number, and which IdP a session and an outstanding request belong to.

Revision ID: 0017_federation
Revises: 0016_pact

``saml_idps`` holds each IdP with the last good copy of its metadata; the single-IdP
``saml_settings`` row stays (the ``oin`` profile of the existing configuration). The SP's
encryption keys are files under ``GATEWAY_KEYS_DIR/saml`` like its signing key, so nothing
about their rotation is stored here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_federation"
down_revision = "0016_pact"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "saml_idps",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("profile", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.String(1000), nullable=False),
        sa.Column("binding", sa.String(20), nullable=False),
        sa.Column("encrypt_assertions", sa.Boolean, nullable=False),
        sa.Column("authn_context", sa.JSON, nullable=False),
        sa.Column("organisations", sa.JSON, nullable=True),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("metadata_url", sa.String(2000), nullable=True),
        sa.Column("metadata_file", sa.String(2000), nullable=True),
        sa.Column("metadata_signer", sa.Text, nullable=True),
        sa.Column("metadata_xml", sa.Text, nullable=True),
        sa.Column("valid_until", TZ, nullable=True),
        sa.Column("fetched_at", TZ, nullable=True),
        sa.Column("refresh_at", TZ, nullable=True),
        sa.Column("metadata_error", sa.String(500), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("brin", sa.String(4), nullable=True))
        batch.add_column(sa.Column("kvk", sa.String(21), nullable=True))
        batch.create_index("ix_organisations_brin", ["brin"])
        batch.create_index("ix_organisations_kvk", ["kvk"])
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("idp", sa.String(40), nullable=True))
        batch.create_index("ix_web_sessions_idp", ["idp"])
    with op.batch_alter_table("saml_requests") as batch:
        batch.add_column(sa.Column("idp", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("saml_requests") as batch:
        batch.drop_column("idp")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_index("ix_web_sessions_idp")
        batch.drop_column("idp")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_index("ix_organisations_kvk")
        batch.drop_index("ix_organisations_brin")
        batch.drop_column("kvk")
        batch.drop_column("brin")
    op.drop_table("saml_idps")
