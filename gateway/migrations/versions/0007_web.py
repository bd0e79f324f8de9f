"""Web interface and SAML: the stored ``saml`` block, outstanding SAML requests, used
assertion IDs (replay cache) and server-side web sessions.

Revision ID: 0007_web
Revises: 0006_audit
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_web"
down_revision = "0006_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saml_settings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("idp_metadata", sa.Text, nullable=False),
        sa.Column("metadata_file", sa.String(2000), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "saml_requests",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("relay_state", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_saml_requests_expires_at", "saml_requests", ["expires_at"])
    op.create_table(
        "saml_assertions",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_saml_assertions_expires_at", "saml_assertions", ["expires_at"])
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("name_id", sa.String(400), nullable=False),
        sa.Column("name_id_format", sa.String(200), nullable=True),
        sa.Column("session_index", sa.String(200), nullable=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("org_oin", sa.String(20), nullable=True),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_sessions_name_id", "web_sessions", ["name_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_name_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("ix_saml_assertions_expires_at", table_name="saml_assertions")
    op.drop_table("saml_assertions")
    op.drop_index("ix_saml_requests_expires_at", table_name="saml_requests")
    op.drop_table("saml_requests")
    op.drop_table("saml_settings")
