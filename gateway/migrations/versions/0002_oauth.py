"""OAuth: the client-assertion replay cache and the issued access tokens.

Revision ID: 0002_oauth
Revises: 0001_registry
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_oauth"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_assertion_jtis",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_id", sa.String(100), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("client_id", "jti", name="uq_oauth_assertion_jtis"),
    )
    op.create_index("ix_oauth_assertion_jtis_expires_at", "oauth_assertion_jtis", ["expires_at"])
    op.create_table(
        "oauth_access_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(100), nullable=False),
        sa.Column("auth_method", sa.String(40), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("kid", sa.String(100), nullable=False),
        sa.Column("x5t_s256", sa.String(64), nullable=True),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_oauth_access_tokens_client_id", "oauth_access_tokens", ["client_id"])
    op.create_index("ix_oauth_access_tokens_expires_at", "oauth_access_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("oauth_access_tokens")
    op.drop_table("oauth_assertion_jtis")
