"""Consent registry (consents, append-only status history) and signals with their matches.

Revision ID: 0004_consent
Revises: 0003_exchanges
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_consent"
down_revision = "0003_exchanges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _consents()
    _signals()


def _consents() -> None:
    """The consents and their append-only status history."""
    op.create_table(
        "consents",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("subject_ref", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("grantor_roles", sa.JSON, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("evidence_method", sa.String(20), nullable=False),
        sa.Column(
            "recorded_by_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("recorded_by_client_id", sa.String(100), nullable=True),
        sa.Column("recorded_by_user", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by", sa.String(36), nullable=True),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("receipt", sa.Text, nullable=False),
    )
    op.create_index("ix_consents_subject_purpose", "consents", ["subject_ref", "purpose"])

    op.create_table(
        "consent_status_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("consent_id", sa.String(36), sa.ForeignKey("consents.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("actor_client_id", sa.String(100), nullable=True),
        sa.Column("actor_user", sa.String(200), nullable=True),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("related_consent_id", sa.String(36), nullable=True),
        sa.Column("key_version", sa.Integer, nullable=True),
        sa.Column("sealed_reason", sa.LargeBinary, nullable=True),
    )
    op.create_index(
        "ix_consent_status_history_consent_id", "consent_status_history", ["consent_id"]
    )


def _signals() -> None:
    """The signals and the matches between two of them."""
    op.create_table(
        "signals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("client_id", sa.String(100), nullable=True),
        sa.Column("match_ref", sa.String(128), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("contact", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_signals_match_ref_status", "signals", ["match_ref", "status"])

    op.create_table(
        "signal_matches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("match_ref", sa.String(128), nullable=False),
        sa.Column("first_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("second_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("first_signal_id", sa.String(36), sa.ForeignKey("signals.id"), nullable=False),
        sa.Column("second_signal_id", sa.String(36), sa.ForeignKey("signals.id"), nullable=False),
        sa.Column("first_message_id", sa.String(36), nullable=True),
        sa.Column("second_message_id", sa.String(36), nullable=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("first_signal_id", "second_signal_id"),
    )
    op.create_index("ix_signal_matches_match_ref", "signal_matches", ["match_ref"])


def downgrade() -> None:
    op.drop_table("signal_matches")
    op.drop_table("signals")
    op.drop_table("consent_status_history")
    op.drop_table("consents")
