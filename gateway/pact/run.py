"""The daily ``gateway pact run`` (docs/pact-workflows.md section 5.4), in order:

1. close the consultations whose consent ended (withdrawn, or past its ``valid_until``):
   ``close_reason`` ``consent_withdrawn``/``consent_expired``, one ``case.close`` event each, so
   no reminder goes out under a consent that no longer holds;
2. escalations: close those a later report ended, fire the due ones, deliver those that waited
   for a suspended holder (:mod:`.escalation`);
3. case reminders (:mod:`.reminders`).

Then one ``admin.pact.run`` event with the counts, never a child (like ``retention purge``:
also when nothing was due, so every run is on record). A dry run counts what is due and
changes and records nothing. Every step is idempotent: a second run at the same moment finds
nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..audit.actors import Actor
from ..audit.log import AuditEvent, AuditLog, rfc3339
from ..clock import Clock, local_date
from ..consents.models import ConsentRow
from ..storage.database import Database
from ..storage.models import Organisation
from .escalation import EscalationCounts, EscalationService
from .models import PactCase
from .reminders import LIVE, ReminderService

RUN_ACTION = "admin.pact.run"


@dataclass
class RunReport:
    """What one run did (or, on a dry run, would do)."""

    now: datetime
    dry_run: bool
    cases_closed: int = 0
    escalations: EscalationCounts = field(default_factory=EscalationCounts)
    reminders: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "cases_closed": self.cases_closed,
            "escalations_opened": self.escalations.opened,
            "escalations_delivered": self.escalations.delivered,
            "escalations_closed": self.escalations.closed,
            "escalations_unconfigured": self.escalations.unconfigured,
            **{f"reminders_{kind}": count for kind, count in self.reminders.items()},
        }

    def text(self) -> str:
        """``cases_closed=0 escalations_opened=1 ...``: the event's reason."""
        return " ".join(f"{name}={count}" for name, count in self.counts().items())


@dataclass(eq=False)
class PactRun:
    """The daily run; built once in :mod:`gateway.composition`."""

    db: Database
    audit: AuditLog
    clock: Clock
    escalations: EscalationService
    reminders: ReminderService
    timezone: str = "Europe/Amsterdam"

    def run(self, actor: Actor, now: datetime | None = None, dry_run: bool = False) -> RunReport:
        now = now or self.clock()
        report = RunReport(now, dry_run)
        report.cases_closed = self.close_ended_consultations(now, dry_run)
        report.escalations = self.escalations.run(now, dry_run)
        report.reminders = self.reminders.run(now, dry_run)
        if not dry_run:
            with self.db.write_session() as session:
                event = actor.event(RUN_ACTION, reason=f"{report.text()} as of {rfc3339(now)}")
                self.audit.append(session, event, self.clock())
        return report

    def close_ended_consultations(self, now: datetime, dry_run: bool = False) -> int:
        """Close the live consultations whose consent was withdrawn or expired by ``now``."""
        today = local_date(now, self.timezone)
        with self.db.session() as session:
            rows = session.execute(
                select(PactCase.id, ConsentRow.withdrawn_at, ConsentRow.valid_until)
                .join(ConsentRow, ConsentRow.id == PactCase.consent_id)
                .where(PactCase.kind == "consultation", PactCase.status.in_(LIVE))
                .order_by(PactCase.created_at, PactCase.id)
            ).all()
        ending = []
        for case_id, withdrawn_at, valid_until in rows:
            if withdrawn_at is not None:
                ending.append((case_id, "consent_withdrawn"))
            elif valid_until < today:
                ending.append((case_id, "consent_expired"))
        if dry_run:
            return len(ending)
        closed = 0
        for case_id, reason in ending:
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                case = session.get(PactCase, case_id)
                if case is None or case.status not in LIVE:
                    continue
                operator = session.scalars(
                    select(Organisation)
                    .where(Organisation.type == "operator")
                    .order_by(Organisation.id)
                ).first()
                case.status, case.closed_at, case.close_reason, case.updated_at = (
                    "closed",
                    now,
                    reason,
                    now,
                )
                self.audit.append(
                    session,
                    AuditEvent(
                        action="case.close",
                        decision="allowed",
                        actor_org=operator.oin if operator else None,
                        purpose=case.purpose,
                        legal_basis={"type": "consent", "consent_id": case.consent_id},
                        consent_id=case.consent_id,
                        reason=reason,
                        subject_ref=case.subject_ref,
                        case_id=case.id,
                    ),
                    now,
                )
                closed += 1
        return closed
