"""The pact's workflows (issue 20): cases, participants, agreements, disclosures,
escalations, the unhashed ``audit_events.case_id`` index, and the education sector and birth
year of a monitoring fact (an escalation's minimal dataset, after the report is erased).

Revision ID: 0016_pact
Revises: 0015_regions

``audit_events.case_id`` groups a case's events for the operator's pages; like
``subject_clear_to`` it is an index column, not part of the hashed document, and never served
to a partner (docs/pact-workflows.md section 2.2).

The pact's routes are seeded here for a database made before this revision (0003 seeds the
routes the shipped file holds when it runs, so a new database already has them: only the
missing ones are inserted).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0016_pact"
down_revision = "0015_regions"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _org(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey("organisations.id"), nullable=nullable)


def _case() -> sa.Column:
    return sa.Column(
        "case_id",
        sa.String(36),
        sa.ForeignKey("pact_cases.id", ondelete="CASCADE"),
        nullable=False,
    )


PACT_MESSAGE_TYPES = (
    "case_invitation",
    "case_response",
    "case_agreements",
    "exemption_advice_request",
    "exemption_medical_advice",
    "exemption_education_advice",
)
"""The routed pact types (the generated ones have no route)."""


def upgrade() -> None:
    _cases()
    _seed_routes()


def _seed_routes() -> None:
    from gateway.exchange.routes import shipped_route_rows

    routes = sa.Table("route_policies", sa.MetaData(), autoload_with=op.get_bind())
    present = {
        tuple(row)
        for row in op.get_bind().execute(
            sa.select(routes.c.message_type, routes.c.sender_type, routes.c.recipient_type)
        )
    }
    columns = set(routes.columns.keys())
    now = datetime.now(UTC)
    missing = [
        {k: v for k, v in dict(row, updated_at=now).items() if k in columns}
        for row in shipped_route_rows()
        if row["message_type"] in PACT_MESSAGE_TYPES
        and (row["message_type"], row["sender_type"], row["recipient_type"]) not in present
    ]
    if missing:
        op.bulk_insert(routes, missing)


def _cases() -> None:
    op.create_table(
        "pact_cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("subject_ref", sa.String(128), nullable=False),
        _org("convener_org_id", nullable=True),
        sa.Column("consent_id", sa.String(36), nullable=True),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("region_code", sa.String(40), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("close_reason", sa.String(40), nullable=True),
        sa.Column("meeting_date", sa.Date, nullable=True),
        _org("regie_org_id", nullable=True),
        sa.Column("next_review_date", sa.Date, nullable=True),
        sa.Column("reminded_review_at", TZ, nullable=True),
        sa.Column("requested_on", sa.Date, nullable=True),
        sa.Column("advice_medical", sa.String(40), nullable=True),
        sa.Column("advice_education", sa.String(40), nullable=True),
        sa.Column("decision", sa.String(40), nullable=True),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("details_key_version", sa.Integer, nullable=True),
        sa.Column("details", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_pact_cases_subject_ref", "pact_cases", ["subject_ref"])
    op.create_index("ix_pact_cases_kind_status", "pact_cases", ["kind", "status"])
    op.create_table(
        "pact_participants",
        sa.Column("id", sa.Integer, primary_key=True),
        _case(),
        _org("org_id"),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("case_ref", sa.String(36), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("joined_at", TZ, nullable=False),
        sa.Column("responded_at", TZ, nullable=True),
        sa.Column("decline_reason", sa.String(40), nullable=True),
        sa.Column("invitation_exchange_id", sa.String(36), nullable=True),
        sa.Column("answer_exchange_id", sa.String(36), nullable=True),
        sa.Column("resolved_from", sa.String(200), nullable=True),
        sa.UniqueConstraint("case_id", "org_id", name="uq_pact_participants_case_org"),
    )
    op.create_index("ix_pact_participants_org", "pact_participants", ["org_id"])
    op.create_table(
        "pact_agreements",
        sa.Column("id", sa.Integer, primary_key=True),
        _case(),
        sa.Column("no", sa.Integer, nullable=False),
        _org("party_org_id", nullable=True),
        sa.Column("party_role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("done_at", TZ, nullable=True),
        sa.Column("reminded_due_at", TZ, nullable=True),
        sa.Column("reminded_overdue_at", TZ, nullable=True),
        sa.UniqueConstraint("case_id", "no", name="uq_pact_agreements_case_no"),
    )
    op.create_index("ix_pact_agreements_due", "pact_agreements", ["status", "due_date"])
    op.create_table(
        "pact_disclosures",
        sa.Column("id", sa.Integer, primary_key=True),
        _case(),
        _org("learner_org_id"),
        _org("learned_org_id"),
        sa.Column("at", TZ, nullable=False),
        sa.UniqueConstraint(
            "case_id", "learner_org_id", "learned_org_id", name="uq_pact_disclosures_pair"
        ),
    )
    op.create_table(
        "pact_escalations",
        sa.Column("id", sa.Integer, primary_key=True),
        _case(),
        sa.Column("subject_ref", sa.String(128), nullable=False),
        _org("reporter_org_id"),
        _org("holder_org_id", nullable=True),
        sa.Column("fact_id", sa.Integer, nullable=True),
        sa.Column("region_code", sa.String(40), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("since_date", sa.Date, nullable=False),
        sa.Column("norm_days", sa.Integer, nullable=False),
        sa.Column("fired_on", sa.Date, nullable=False),
        sa.Column("placed_date", sa.Date, nullable=True),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("delivered", sa.Boolean, nullable=False),
        sa.UniqueConstraint(
            "subject_ref", "reporter_org_id", "since_date", name="uq_pact_escalations_period"
        ),
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("case_id", sa.String(36), nullable=True))
    op.create_index("ix_audit_events_case_id", "audit_events", ["case_id"])
    with op.batch_alter_table("monitoring_facts") as batch:
        batch.add_column(sa.Column("education_sector", sa.String(10), nullable=True))
        batch.add_column(sa.Column("birth_year", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_facts") as batch:
        batch.drop_column("birth_year")
        batch.drop_column("education_sector")
    routes = sa.table("route_policies", sa.column("message_type"))
    op.execute(routes.delete().where(routes.c.message_type.in_(PACT_MESSAGE_TYPES)))
    op.drop_index("ix_audit_events_case_id", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("case_id")
    op.drop_table("pact_escalations")
    op.drop_table("pact_disclosures")
    op.drop_table("pact_agreements")
    op.drop_table("pact_participants")
    op.drop_index("ix_pact_cases_kind_status", table_name="pact_cases")
    op.drop_index("ix_pact_cases_subject_ref", table_name="pact_cases")
    op.drop_table("pact_cases")
