"""The case tables (migration ``0016_pact``).

What a partner may learn decides the shape: the internal ``pact_cases.id`` is never served to
a partner (only the operator's pages see it); a participant reaches its case only through its
own ``case_ref``, a random UUID v4 drawn when it became a participant (nothing derived from
the child or the case, so there is nothing to compute and nothing to test a guessed BSN
against). The child is held as the audit-domain pseudonym (``subject_ref``), as monitoring
facts hold it. What a case says beyond categories and dates (the meeting's time and mode,
contacts) is sealed at rest in ``details`` with the message sealer; the categorical columns
beside it exist for the indicators and the daily run, and hold no free text.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base

CASE_KINDS = ("consultation", "exemption_advice", "escalation")
PARTICIPANT_ROLES = ("convener", "invitee", "adviser", "holder", "reporter")


class PactCase(Base):
    """One process about one child: a consultation, an exemption advice or an escalation.

    ``status``: consultation ``open`` -> ``agreed`` -> ``closed``; exemption ``requested`` ->
    ``advised`` -> ``decided``; escalation ``open`` -> ``closed``.
    """

    __tablename__ = "pact_cases"
    __table_args__ = (
        Index("ix_pact_cases_subject_ref", "subject_ref"),
        Index("ix_pact_cases_kind_status", "kind", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    subject_ref: Mapped[str] = mapped_column(String(128))
    convener_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True
    )
    consent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    purpose: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # consultation: the meeting date (indicators count a consultation in its meeting's year),
    # the regiehouder and the next review
    meeting_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    regie_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    next_review_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    reminded_review_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # exemption advice: when the parents' request arrived, the advice outcomes, the decision
    requested_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    advice_medical: Mapped[str | None] = mapped_column(String(40), nullable=True)
    advice_education: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # the sealed rest of the case (meeting time and mode, contacts, valid_until): JSON sealed
    # with the message sealer under the case id
    details_key_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    details: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class PactParticipant(Base):
    """An organisation in a case, with its own reference to it.

    ``status``: invitee ``invited`` -> ``accepted`` | ``declined``; adviser ``invited`` ->
    ``answered``; holder and reporter ``notified`` (or ``undelivered`` while the holder is
    suspended); the convener ``convener``.
    """

    __tablename__ = "pact_participants"
    __table_args__ = (
        UniqueConstraint("case_id", "org_id", name="uq_pact_participants_case_org"),
        Index("ix_pact_participants_org", "org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("pact_cases.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(20))
    case_ref: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # the message that made it a participant (its invitation, advice request, escalation)
    invitation_exchange_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # the message it answered with (case_response, exemption_*_advice)
    answer_exchange_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # the role address it was invited by, as the convener sent it (JSON), or null for an OIN
    resolved_from: Mapped[str | None] = mapped_column(String(200), nullable=True)


class PactAgreement(Base):
    """One agreement of a consultation: who does what by when."""

    __tablename__ = "pact_agreements"
    __table_args__ = (
        UniqueConstraint("case_id", "no", name="uq_pact_agreements_case_no"),
        Index("ix_pact_agreements_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("pact_cases.id", ondelete="CASCADE"))
    no: Mapped[int] = mapped_column(Integer)
    party_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    party_role: Mapped[str] = mapped_column(String(20))  # organisation | parents | youth
    action: Mapped[str] = mapped_column(String(40))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # open | done | cancelled
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reminded_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reminded_overdue_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class PactDisclosure(Base):
    """Rule 6's record: organisation ``learner`` learned that ``learned`` is involved with the
    child of this case. Written once per pair, with its ``case.disclose`` audit event."""

    __tablename__ = "pact_disclosures"
    __table_args__ = (
        UniqueConstraint(
            "case_id", "learner_org_id", "learned_org_id", name="uq_pact_disclosures_pair"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("pact_cases.id", ondelete="CASCADE"))
    learner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    learned_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PactEscalation(Base):
    """The escalation of one homebound period: one per (child, reporter, ``since_date``), so
    concurrent or repeated runs fire it once."""

    __tablename__ = "pact_escalations"
    __table_args__ = (
        UniqueConstraint(
            "subject_ref", "reporter_org_id", "since_date", name="uq_pact_escalations_period"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("pact_cases.id", ondelete="CASCADE"))
    subject_ref: Mapped[str] = mapped_column(String(128))
    reporter_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    holder_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    fact_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    region_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    since_date: Mapped[date] = mapped_column(Date)
    norm_days: Mapped[int] = mapped_column(Integer)
    fired_on: Mapped[date] = mapped_column(Date)
    placed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
