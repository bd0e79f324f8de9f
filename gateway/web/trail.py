"""Audit events written by the web interface, and the case index the officers' pages read.

:class:`WebTrail` writes events with the SAML NameID as ``actor.user``. Services that audit
their own changes (the consent registry) get the web user as their actor; this writer covers
the rest: administration through the registry service, which leaves auditing to its callers,
and refused SAML logins (``auth.failure``).

:class:`CaseIndex` joins the audit events a privacy officer already received to the pact's
case tables (issue 20): the pages may not query tables themselves, and the join is where
visibility is decided, so it lives here, below the pages, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.log import AuditEvent, AuditLog
from ..audit.models import AuditEventRow
from ..clock import Clock, aware
from ..pact.models import (
    PactAgreement,
    PactCase,
    PactDisclosure,
    PactEscalation,
    PactParticipant,
)
from ..registry.models import Region
from ..storage.database import Database
from ..storage.models import Organisation


class WebTrail:
    def __init__(self, db: Database, log: AuditLog, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.log = log

    def write(self, event: AuditEvent) -> None:
        with self.db.write_session() as session:
            self.log.append(session, event, self.clock())

    def admin(
        self,
        user,
        what: str,
        decision: str = "allowed",
        reason: str | None = None,
        recipient: str | None = None,
    ) -> None:
        """An ``admin.<what>`` event by a web user (``what`` like ``organisation.suspend``)."""
        self.write(
            AuditEvent(
                action=f"admin.{what}",
                decision=decision,
                reason=reason,
                actor_org=user.org_oin,
                actor_user=user.name_id,
                recipient=recipient,
            )
        )


# --- the pact's cases as a privacy officer may see them (issue 20) ------------------------------


@dataclass(frozen=True)
class CaseParty:
    """An organisation in a case (a ``pact_participants`` row), by OIN."""

    oin: str
    role: str
    status: str
    case_ref: str
    joined_at: datetime
    responded_at: datetime | None = None
    decline_reason: str | None = None


@dataclass(frozen=True)
class CaseAgreement:
    no: int
    party_oin: str | None
    party_role: str
    action: str
    due_date: date
    status: str
    done_at: datetime | None = None


@dataclass(frozen=True)
class CaseEscalation:
    region: str
    norm_days: int
    since_date: date
    fired_on: date
    category: str
    holder_oin: str | None
    reporter_oin: str
    placed_date: date | None = None
    closed_on: date | None = None
    delivered: bool = True


@dataclass(frozen=True)
class CaseDisclosure:
    """Rule 6's record: ``learner`` learned that ``learned`` is involved (``pact_disclosures``)."""

    learner_oin: str
    learned_oin: str
    at: datetime


@dataclass(frozen=True)
class CaseFile:
    """One case with its parties, agreements and escalation, and ``reader``: the reading
    organisation's own participation (None for the operator's readers, who see every case of
    the child and hold no reference of their own)."""

    id: str
    kind: str
    status: str
    parties: tuple[CaseParty, ...] = ()
    agreements: tuple[CaseAgreement, ...] = ()
    escalation: CaseEscalation | None = None
    disclosures: tuple[CaseDisclosure, ...] = ()
    reader: CaseParty | None = None
    convener: str | None = None
    regie: str | None = None
    meeting_date: date | None = None
    next_review_date: date | None = None
    advice_medical: str | None = None
    advice_education: str | None = None
    decision: str | None = None
    decided_on: date | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None


@dataclass(frozen=True)
class CaseFiles:
    """The cases a reader may see among its events, and which event belongs to which."""

    files: dict[str, CaseFile] = field(default_factory=dict)
    of_event: dict[int, str] = field(default_factory=dict)


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CaseIndex:
    """Joins a reader's audit events to the pact's case tables (docs/pact-workflows.md
    section 9), without widening what the reader sees.

    The events come from the audit service under the reader's visibility; their unhashed
    ``case_id`` index names the cases. A partner's reader gets only the cases its own
    organisation takes part in (joined through its ``pact_participants`` row, whose
    ``case_ref`` is the one reference it may be shown); the operator's readers every case.
    Which details of a case a reader is told is decided by :mod:`gateway.web.inzage` from the
    reader's role in it, as the case API decides for the organisation itself."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def cases_of(self, seqs: list[int], operator: bool, org_oin: str | None) -> CaseFiles:
        """The cases of the events ``seqs`` (which the reader already received)."""
        if not operator and not org_oin:
            return CaseFiles()
        with self.db.session() as session:
            of_event = self._case_ids(session, seqs)
            ids = sorted(set(of_event.values()))
            oins = dict(session.execute(select(Organisation.id, Organisation.oin)).all())
            parties = self._parties(session, ids, oins)
            if not operator:
                ids = [
                    case_id
                    for case_id in ids
                    if any(party.oin == org_oin for party in parties.get(case_id, ()))
                ]
            files = {
                row.id: self._file(session, row, parties.get(row.id, ()), oins, operator, org_oin)
                for row in self._rows(session, PactCase, PactCase.id, ids)
            }
        return CaseFiles(
            files, {seq: case_id for seq, case_id in of_event.items() if case_id in files}
        )

    def case_ids(self, seqs: list[int]) -> dict[int, str]:
        """``seq -> case_id`` of the events that belong to a case: the operator's index only
        (the audit page's link to a whole process)."""
        with self.db.session() as session:
            return self._case_ids(session, seqs)

    @staticmethod
    def _case_ids(session: Session, seqs: list[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for part in _chunks(sorted(set(seqs))):
            query = select(AuditEventRow.seq, AuditEventRow.case_id).where(
                AuditEventRow.seq.in_(part), AuditEventRow.case_id.is_not(None)
            )
            found.update({seq: case_id for seq, case_id in session.execute(query)})
        return found

    @staticmethod
    def _rows(session: Session, model, column, ids: list[str]) -> list:
        rows = []
        for part in _chunks(ids):
            rows += session.scalars(select(model).where(column.in_(part))).all()
        return rows

    def _parties(
        self, session: Session, ids: list[str], oins: dict[int, str]
    ) -> dict[str, tuple[CaseParty, ...]]:
        parties: dict[str, list[CaseParty]] = {}
        rows = self._rows(session, PactParticipant, PactParticipant.case_id, ids)
        for row in sorted(rows, key=lambda row: (row.joined_at, row.id)):
            parties.setdefault(row.case_id, []).append(
                CaseParty(
                    oin=oins.get(row.org_id, ""),
                    role=row.role,
                    status=row.status,
                    case_ref=row.case_ref,
                    joined_at=aware(row.joined_at),
                    responded_at=aware(row.responded_at) if row.responded_at else None,
                    decline_reason=row.decline_reason,
                )
            )
        return {case_id: tuple(found) for case_id, found in parties.items()}

    def _file(
        self,
        session: Session,
        row: PactCase,
        parties: tuple[CaseParty, ...],
        oins: dict[int, str],
        operator: bool,
        org_oin: str | None,
    ) -> CaseFile:
        agreements = session.scalars(
            select(PactAgreement).where(PactAgreement.case_id == row.id).order_by(PactAgreement.no)
        ).all()
        escalation = session.scalars(
            select(PactEscalation).where(PactEscalation.case_id == row.id)
        ).first()
        disclosures = session.scalars(
            select(PactDisclosure)
            .where(PactDisclosure.case_id == row.id)
            .order_by(PactDisclosure.at, PactDisclosure.id)
        ).all()
        return CaseFile(
            id=row.id,
            kind=row.kind,
            status=row.status,
            parties=parties,
            agreements=tuple(
                CaseAgreement(
                    no=item.no,
                    party_oin=oins.get(item.party_org_id) if item.party_org_id else None,
                    party_role=item.party_role,
                    action=item.action,
                    due_date=item.due_date,
                    status=item.status,
                    done_at=aware(item.done_at) if item.done_at else None,
                )
                for item in agreements
            ),
            escalation=self._escalation(session, escalation, oins) if escalation else None,
            disclosures=tuple(
                CaseDisclosure(
                    oins.get(item.learner_org_id, ""),
                    oins.get(item.learned_org_id, ""),
                    aware(item.at),
                )
                for item in disclosures
            ),
            reader=None if operator else next(p for p in parties if p.oin == org_oin),
            convener=oins.get(row.convener_org_id) if row.convener_org_id else None,
            regie=oins.get(row.regie_org_id) if row.regie_org_id else None,
            meeting_date=row.meeting_date,
            next_review_date=row.next_review_date,
            advice_medical=row.advice_medical,
            advice_education=row.advice_education,
            decision=row.decision,
            decided_on=row.decided_on,
            closed_at=aware(row.closed_at) if row.closed_at else None,
            close_reason=row.close_reason,
        )

    @staticmethod
    def _escalation(session: Session, row: PactEscalation, oins: dict[int, str]):
        region = session.scalars(select(Region.name).where(Region.code == row.region_code))
        return CaseEscalation(
            region=region.first() or row.region_code,
            norm_days=row.norm_days,
            since_date=row.since_date,
            fired_on=row.fired_on,
            category=row.category,
            holder_oin=oins.get(row.holder_org_id) if row.holder_org_id else None,
            reporter_oin=oins.get(row.reporter_org_id, ""),
            placed_date=row.placed_date,
            closed_on=row.closed_on,
            delivered=bool(row.delivered),
        )

    # the audit page's "Hele proces" (the operator's readers only) ------------------------------

    def subject_of(self, case_id: str) -> str | None:
        """The case's child (audit pseudonym): a read of a whole process is a read of that
        child's record, audited under it like a trail."""
        with self.db.session() as session:
            return session.scalar(select(PactCase.subject_ref).where(PactCase.id == case_id))
