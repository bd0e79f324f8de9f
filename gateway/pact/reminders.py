"""Case reminders of the daily run (docs/pact-workflows.md sections 3.1 step 5, 3.3, 5.4).

For the open agreements of open or agreed consultations, as of the run's local date:

- ``due_today`` to the agreement's party on the first run on or after its due date;
- ``overdue`` to the regiehouder on the first run on or after due date + 7; a run that finds
  both due sends only ``overdue`` and marks both;
- ``party_suspended`` to the regiehouder instead of ``due_today`` when the party is suspended
  (section 2.5: nothing is generated for a suspended organisation);
- ``review_due`` to the regiehouder on the case's ``next_review_date``.

Each at most once, tracked by ``reminded_due_at``/``reminded_overdue_at`` of the agreement and
``reminded_review_at`` of the case, set in the transaction that stores the reminder. Nothing
for an agreement of the parents or the youth (no organisation to tell; the review covers
them). A reminder whose recipient is suspended is not sent and not marked: it goes out on the
first run after its reactivation. Each is a generated ``case_reminder`` (sender the operator,
the recipient's own pseudonym, its own ``case_ref``) under the case's consent, with its
``exchange.send`` and a ``case.remind`` event.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pseudonymise import DomainPseudonymiser, organisation_domain

from .. import metrics
from ..audit.log import AuditEvent, AuditLog
from ..clock import local_date
from ..exchange.generated import GeneratedMessage, store_generated
from ..sealing import Sealer
from ..storage.database import Database
from ..storage.models import Organisation
from ..transaction import new as new_transaction_id
from .escalation import ACTIVE, org_entry
from .models import PactAgreement, PactCase, PactParticipant

MESSAGE_TYPE = "case_reminder"
PURPOSE = "case_consultation"
RETENTION_DAYS = 90
OVERDUE_AFTER = timedelta(days=7)
LIVE = ("open", "agreed")
KINDS = ("due_today", "overdue", "party_suspended", "review_due")


@dataclass(frozen=True)
class Due:
    """One reminder to send: to ``recipient_id`` about ``agreement_id`` (None: the review)."""

    case_id: str
    reminder: str
    recipient_id: int
    agreement_id: int | None
    due_date: date
    marks: tuple[str, ...]
    """What to set once it is stored: ``due``, ``overdue``, ``review``."""


def agreement_reminder(agreement, today: date, party_active: bool, regie_id: int | None):
    """``(reminder, recipient_id, marks)`` due for one open agreement of an organisation, or
    None. Pure, for unit tests."""
    if agreement.party_org_id is None or agreement.status != "open":
        return None
    if today >= agreement.due_date + OVERDUE_AFTER and agreement.reminded_overdue_at is None:
        if regie_id is None:
            return None
        return ("overdue", regie_id, ("due", "overdue"))
    if today >= agreement.due_date and agreement.reminded_due_at is None:
        if party_active:
            return ("due_today", agreement.party_org_id, ("due",))
        if regie_id is None or regie_id == agreement.party_org_id:
            return None
        return ("party_suspended", regie_id, ("due",))
    return None


@dataclass(eq=False)
class ReminderService:
    """Sends the due case reminders; built once in :mod:`gateway.composition`."""

    db: Database
    pseudonymiser: DomainPseudonymiser
    sealer: Sealer
    audit: AuditLog
    timezone: str = "Europe/Amsterdam"

    def run(self, now: datetime, dry_run: bool = False) -> dict[str, int]:
        """Send every due reminder; the counts per kind (a dry run sends nothing)."""
        today = local_date(now, self.timezone)
        with self.db.session() as session:
            due = self.due(session, today)
        counts: Counter = Counter({kind: 0 for kind in KINDS})
        for item in due:
            if dry_run:
                counts[item.reminder] += 1
                continue
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                if self._send(session, item, now):
                    counts[item.reminder] += 1
                    metrics.PACT_REMINDERS.labels(reminder=item.reminder).inc()
        return dict(counts)

    def due(self, session: Session, today: date) -> list[Due]:
        """Every reminder due at ``today``, agreements first (by case and number), then the
        reviews. A recipient that is suspended now gets none (and nothing is marked)."""
        status = dict(session.execute(select(Organisation.id, Organisation.status)).all())
        cases = {
            case.id: case
            for case in session.scalars(
                select(PactCase).where(PactCase.kind == "consultation", PactCase.status.in_(LIVE))
            )
        }
        due: list[Due] = []
        if not cases:
            return due
        agreements = session.scalars(
            select(PactAgreement)
            .where(PactAgreement.case_id.in_(list(cases)), PactAgreement.status == "open")
            .order_by(PactAgreement.case_id, PactAgreement.no)
        )
        for agreement in agreements:
            case = cases[agreement.case_id]
            found = agreement_reminder(
                agreement,
                today,
                status.get(agreement.party_org_id) == ACTIVE,
                case.regie_org_id,
            )
            if found is None:
                continue
            reminder, recipient, marks = found
            if status.get(recipient) != ACTIVE:
                continue
            due.append(Due(case.id, reminder, recipient, agreement.id, agreement.due_date, marks))
        for case in cases.values():
            if (
                case.next_review_date is not None
                and case.reminded_review_at is None
                and case.regie_org_id is not None
                and today >= case.next_review_date
                and status.get(case.regie_org_id) == ACTIVE
            ):
                due.append(
                    Due(
                        case.id,
                        "review_due",
                        case.regie_org_id,
                        None,
                        case.next_review_date,
                        ("review",),
                    )
                )
        return due

    def _send(self, session: Session, item: Due, now: datetime) -> bool:
        """Store one reminder and mark it sent, unless a concurrent run did already."""
        case = session.get(PactCase, item.case_id)
        agreement = session.get(PactAgreement, item.agreement_id) if item.agreement_id else None
        if case is None or case.status not in LIVE:
            return False
        if agreement is not None and (
            ("overdue" in item.marks and agreement.reminded_overdue_at is not None)
            or ("overdue" not in item.marks and agreement.reminded_due_at is not None)
        ):
            return False
        if agreement is None and case.reminded_review_at is not None:
            return False
        recipient = session.get(Organisation, item.recipient_id)
        regie = session.get(Organisation, case.regie_org_id) if case.regie_org_id else None
        participant = session.scalars(
            select(PactParticipant).where(
                PactParticipant.case_id == case.id, PactParticipant.org_id == recipient.id
            )
        ).first()
        operator = session.scalars(
            select(Organisation).where(Organisation.type == "operator").order_by(Organisation.id)
        ).first()
        if participant is None or regie is None or operator is None:
            return False
        payload: dict = {"case_ref": participant.case_ref}
        if agreement is not None:
            payload |= {"agreement_no": agreement.no, "action": agreement.action}
        payload |= {
            "due_date": item.due_date.isoformat(),
            "reminder": item.reminder,
            "regie": org_entry(regie),
        }
        basis = {"type": "consent", "consent_id": case.consent_id}
        subject = self.pseudonymiser.translate(
            case.subject_ref, "audit", organisation_domain(recipient.oin)
        )
        message_id = store_generated(
            session,
            self.sealer,
            self.audit,
            GeneratedMessage(
                message_type=MESSAGE_TYPE,
                operator_org_id=operator.id,
                operator_oin=operator.oin,
                recipient_org_id=recipient.id,
                recipient_oin=recipient.oin,
                subject={"pseudonym": subject},
                subject_ref=case.subject_ref,
                payload=payload,
                purpose=PURPOSE,
                legal_basis=basis,
                retention_days=RETENTION_DAYS,
                fsc_transaction_id=new_transaction_id(),
                case_id=case.id,
                consent_id=case.consent_id,
            ),
            now,
        )
        self.audit.append(
            session,
            AuditEvent(
                action="case.remind",
                decision="allowed",
                actor_org=operator.oin,
                exchange_id=message_id,
                message_type=MESSAGE_TYPE,
                sender=operator.oin,
                recipient=recipient.oin,
                purpose=PURPOSE,
                legal_basis=basis,
                consent_id=case.consent_id,
                reason=item.reminder,
                subject_ref=case.subject_ref,
                case_id=case.id,
            ),
            now,
        )
        if agreement is not None:
            if "due" in item.marks:
                agreement.reminded_due_at = now
            if "overdue" in item.marks:
                agreement.reminded_overdue_at = now
        else:
            case.reminded_review_at = now
        case.updated_at = now
        return True
