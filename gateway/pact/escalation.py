"""Escalation with doorzettingsmacht (docs/pact-workflows.md section 5).

A child reported at home (``homebound_report``, category ``absolute_absence`` or
``long_relative_absence``, not placed) that reaches its region's norm (Groningen 91 days,
Lekstroom 42) escalates on the first daily run on or after ``since_date + norm_days``: a case
of kind ``escalation`` with the region's holder of doorzettingsmacht and the reporting
leerplicht office as participants, each with its own ``case_ref``, and one generated
``homebound_escalation`` to each (sender the operator, the recipient's own pseudonym), all in
one transaction with the ``escalation.open`` and ``case.disclose`` events. One escalation per
homebound period: the unique key (child, reporter, ``since_date``) of ``pact_escalations``
makes a concurrent or repeated run skip it (IntegrityError, as ``monitoring/alerts.py``).

A placement (or an exemption) reported by the same office closes it in the report's own
transaction (:class:`gateway.pact.placement_observer.PlacementObserver`); the daily run closes
any escalation whose latest fact says so by another path (defence in depth).

A suspended holder is not told while suspended: the escalation is stored ``delivered: false``
and the first run after its reactivation delivers it (section 2.5). The reporter learns of the
holder only when its own item is stored.

The involved organisations the holder is told of are exactly those of section 5.2: whoever sent
or received a legal-obligation exchange of the pact's routes about the child in the last 12
months, and the organisations that accepted a consultation about it whose consent names the
holder; never a signal match, a ``mazl`` or ``support`` counterpart, never the holder or the
reporter again. No dates, no types, no counts.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from pseudonymise import DomainPseudonymiser, organisation_domain
from schemas.vocabulary import ESCALATING_CATEGORIES

from .. import metrics
from ..audit.log import AuditEvent, AuditLog
from ..clock import local_date
from ..consents.models import ConsentRow
from ..exchange.generated import GeneratedMessage, store_generated
from ..exchange.models import Message
from ..monitoring.models import MonitoringFact
from ..registry.areas import RegionDirectory
from ..sealing import Sealer
from ..storage.database import Database
from ..storage.models import Organisation
from ..transaction import new as new_transaction_id
from .disclosures import Disclosure, Party, disclose
from .models import PactCase, PactEscalation, PactParticipant

log = logging.getLogger(__name__)

PURPOSE = "homebound_escalation"
MESSAGE_TYPE = "homebound_escalation"
CLOSED_TYPE = "homebound_escalation_closed"
RETENTION_DAYS = 365
"""Retention of the generated items (section 5.2)."""
INVOLVED_WINDOW = timedelta(days=365)
"""How far back an organisation counts as involved (OPEN-14: 12 months)."""
LEGAL_TYPES = (
    "absence_report",
    "homebound_report",
    "exemption_advice_request",
    "exemption_medical_advice",
    "exemption_education_advice",
)
"""The pact's legal-obligation routes whose parties count as involved (section 5.2)."""
EXEMPTIONS = ("exemption_5a", "exemption_other")
ACTIVE = "active"


def legal_basis(citation: str | None) -> dict:
    """The region's agreement as the legal basis of every item and event of its escalations."""
    return {"type": "legal_obligation", "citation": citation or ""}


def due_facts(facts: list, today: date, norm_of) -> list[tuple]:
    """``(fact, norm_days, days_at_home)`` of the latest facts that reached their norm today or
    earlier: an escalating category, not placed, ``today - since_date >= norm``. ``norm_of``
    gives a fact's norm in days, or None (no region, no escalation). Pure, for unit tests."""
    due = []
    for fact in facts:
        if fact.category not in ESCALATING_CATEGORIES or fact.placed_date is not None:
            continue
        norm = norm_of(fact)
        if norm is None:
            continue
        days = (today - fact.since_date).days
        if days >= norm:
            due.append((fact, norm, days))
    return due


def latest_facts(session: Session, now: datetime) -> list[MonitoringFact]:
    """The latest homebound fact per (child, reporter) reported up to ``now`` (a run "in the
    past" under ``--now`` does not see later reports, R8)."""
    facts = session.scalars(
        select(MonitoringFact)
        .where(MonitoringFact.kind == "homebound", MonitoringFact.reported_at <= now)
        .order_by(MonitoringFact.reported_at, MonitoringFact.id)
    )
    latest: dict[tuple, MonitoringFact] = {}
    for fact in facts:
        latest[(fact.subject_ref, fact.sender_org_id)] = fact
    return list(latest.values())


def org_entry(org: Organisation) -> dict:
    """An organisation as a case names it to a participant: ``{oin, name, type}``."""
    return {"oin": org.oin, "name": org.name, "type": org.type}


def involved_organisations(
    session: Session, subject_ref: str, holder: Organisation, reporter_id: int, now: datetime
) -> list[Organisation]:
    """The organisations involved with the child of ``subject_ref`` that the holder may be told
    of (section 5.2), sorted by OIN; the holder and the reporter are never in it."""
    since = now - INVOLVED_WINDOW
    ids: set[int] = set()
    rows = session.execute(
        select(Message.sender_org_id, Message.recipient_org_id).where(
            Message.subject_ref == subject_ref,
            Message.message_type.in_(LEGAL_TYPES),
            Message.created_at >= since,
            Message.created_at <= now,
            Message.status != "retracted",
        )
    ).all()
    for sender, recipient in rows:
        ids.update((sender, recipient))
    consultations = session.execute(
        select(PactCase.id, ConsentRow.parties)
        .join(ConsentRow, ConsentRow.id == PactCase.consent_id)
        .where(
            PactCase.kind == "consultation",
            PactCase.subject_ref == subject_ref,
            PactCase.created_at >= since,
            PactCase.created_at <= now,
        )
    ).all()
    named = [case_id for case_id, parties in consultations if _names(parties, holder)]
    if named:
        ids.update(
            session.scalars(
                select(PactParticipant.org_id).where(
                    PactParticipant.case_id.in_(named), PactParticipant.status == "accepted"
                )
            )
        )
    ids -= {holder.id, reporter_id}
    if not ids:
        return []
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(ids), Organisation.type != "operator")
            .order_by(Organisation.oin)
        )
    )


def _names(parties: list | None, org: Organisation) -> bool:
    """A consent's parties name ``org`` by OIN or by type (consent/matching.py's rule)."""
    return bool(parties) and (org.oin in parties or org.type in parties)


@dataclass
class EscalationCounts:
    """What one run did (or, dry, would do)."""

    opened: int = 0
    delivered: int = 0
    closed: int = 0
    unconfigured: int = 0
    regions: dict[str, int] = field(default_factory=dict)
    """Escalations opened per region (for ``gateway_pact_escalations_total``)."""


@dataclass(eq=False)
class EscalationService:
    """Fires, delivers and closes escalations; built once in :mod:`gateway.composition`."""

    db: Database
    pseudonymiser: DomainPseudonymiser
    sealer: Sealer
    audit: AuditLog
    timezone: str = "Europe/Amsterdam"

    # the daily run ------------------------------------------------------------------------
    def run(self, now: datetime, dry_run: bool = False) -> EscalationCounts:
        """Close what a later fact ended, fire what is due, deliver what waited (in that order,
        so an escalation is never fired for a child a later report placed)."""
        counts = EscalationCounts()
        counts.closed = self.close_ended(now, dry_run)
        self.fire_due(now, counts, dry_run)
        counts.delivered = self.deliver_waiting(now, dry_run)
        if not dry_run:
            self.publish_gauges()
        return counts

    def fire_due(self, now: datetime, counts: EscalationCounts, dry_run: bool = False) -> None:
        today = local_date(now, self.timezone)
        with self.db.session() as session:
            directory = RegionDirectory(session)
            facts = latest_facts(session, now)
            fired = set(
                session.execute(
                    select(
                        PactEscalation.subject_ref,
                        PactEscalation.reporter_org_id,
                        PactEscalation.since_date,
                    )
                ).all()
            )
            regions: dict[int, str | None] = {}

            def region_of(fact) -> str | None:
                if fact.sender_org_id not in regions:
                    regions[fact.sender_org_id] = directory.region_of_reporter(fact.sender_org_id)
                return regions[fact.sender_org_id]

            def norm_of(fact) -> int | None:
                code = region_of(fact)
                return directory.norm_days(code) if code else None

            due = []
            for fact, norm, days in due_facts(facts, today, norm_of):
                if (fact.subject_ref, fact.sender_org_id, fact.since_date) in fired:
                    continue
                code = region_of(fact)
                holder = directory.holder(code)
                if holder is None:
                    counts.unconfigured += 1
                    reporter = session.get(Organisation, fact.sender_org_id)
                    log.warning(
                        "homebound norm reached but region %s has no escalation recipient "
                        "(reporter %s)",
                        code,
                        reporter.oin if reporter else fact.sender_org_id,
                    )
                    metrics.PACT_ESCALATIONS_UNCONFIGURED.inc()
                    continue
                due.append((fact.id, code, norm, days, directory.basis(code)))
        for fact_id, code, norm, days, basis in due:
            if dry_run or self._fire(fact_id, code, norm, days, basis, now):
                counts.opened += 1
                counts.regions[code] = counts.regions.get(code, 0) + 1
                if not dry_run:
                    metrics.PACT_ESCALATIONS.labels(region=code, event="opened").inc()

    def _fire(
        self, fact_id: int, code: str, norm: int, days: int, basis: str | None, now: datetime
    ) -> bool:
        """Open the escalation of one fact in one transaction; False when another run did."""
        basis_doc = legal_basis(basis)
        try:
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                fact = session.get(MonitoringFact, fact_id)
                holder_ref = RegionDirectory(session).holder(code)
                operator = _operator(session)
                if fact is None or holder_ref is None or operator is None:
                    return False  # purged, or the region's holder removed since the read
                holder = session.get(Organisation, holder_ref.id)
                reporter = session.get(Organisation, fact.sender_org_id)
                case_id = str(uuid.uuid4())
                deliver = holder.status == ACTIVE
                session.execute(
                    insert(PactCase),
                    {
                        "id": case_id,
                        "kind": "escalation",
                        "status": "open",
                        "subject_ref": fact.subject_ref,
                        "purpose": PURPOSE,
                        "region_code": code,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                session.execute(
                    insert(PactEscalation),
                    {
                        "case_id": case_id,
                        "subject_ref": fact.subject_ref,
                        "reporter_org_id": reporter.id,
                        "holder_org_id": holder.id,
                        "fact_id": fact.id,
                        "region_code": code,
                        "category": fact.category,
                        "since_date": fact.since_date,
                        "norm_days": norm,
                        "fired_on": local_date(now, self.timezone),
                        "delivered": deliver,
                    },
                )
                context = _Context(session, operator, case_id, fact.subject_ref, basis_doc, now)
                self._event(context, "escalation.open", reason=f"region {code}")
                holder_ref_id = self._participant(context, holder, "holder", deliver)
                if holder.id != reporter.id:
                    reporter_ref = self._participant(
                        context, reporter, "reporter", reporter.status == ACTIVE
                    )
                if deliver:
                    self._tell_holder(
                        context, holder, reporter, fact, holder_ref_id, code, norm, days
                    )
                if holder.id != reporter.id:
                    self._tell_reporter(
                        context, holder, reporter, fact, reporter_ref, code, norm, days
                    )
        except IntegrityError:
            return False  # another run fired it first
        return True

    def deliver_waiting(self, now: datetime, dry_run: bool = False) -> int:
        """Deliver the open escalations stored while their holder was suspended, once it is
        active again (its item tells the days at home as of delivery)."""
        with self.db.session() as session:
            waiting = (
                session.execute(
                    select(PactEscalation.id)
                    .join(PactCase, PactCase.id == PactEscalation.case_id)
                    .join(Organisation, Organisation.id == PactEscalation.holder_org_id)
                    .where(
                        PactEscalation.delivered.is_(False),
                        PactCase.status == "open",
                        Organisation.status == ACTIVE,
                    )
                    .order_by(PactEscalation.id)
                )
                .scalars()
                .all()
            )
        if dry_run:
            return len(waiting)
        delivered = 0
        today = local_date(now, self.timezone)
        for escalation_id in waiting:
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                escalation = session.get(PactEscalation, escalation_id)
                if escalation.delivered:
                    continue
                case = session.get(PactCase, escalation.case_id)
                holder = session.get(Organisation, escalation.holder_org_id)
                reporter = session.get(Organisation, escalation.reporter_org_id)
                fact = session.get(MonitoringFact, escalation.fact_id)
                operator = _operator(session)
                if fact is None or operator is None:
                    continue
                basis = RegionDirectory(session).basis(escalation.region_code)
                context = _Context(
                    session, operator, case.id, case.subject_ref, legal_basis(basis), now
                )
                participant = session.scalars(
                    select(PactParticipant).where(
                        PactParticipant.case_id == case.id, PactParticipant.org_id == holder.id
                    )
                ).one()
                days = (today - escalation.since_date).days
                message_id = self._tell_holder(
                    context,
                    holder,
                    reporter,
                    fact,
                    participant.case_ref,
                    escalation.region_code,
                    escalation.norm_days,
                    days,
                )
                participant.status = "notified"
                participant.invitation_exchange_id = message_id
                escalation.delivered = True
                case.updated_at = now
                delivered += 1
        return delivered

    def close_ended(self, now: datetime, dry_run: bool = False) -> int:
        """Close open escalations whose latest fact (up to ``now``) is placed or an exemption:
        the placement observer closes them in the report's transaction; this catches any other
        path (defence in depth)."""
        with self.db.session() as session:
            latest = {
                (fact.subject_ref, fact.sender_org_id): fact for fact in latest_facts(session, now)
            }
            open_ = session.scalars(
                select(PactEscalation)
                .join(PactCase, PactCase.id == PactEscalation.case_id)
                .where(PactCase.status == "open")
            ).all()
            ending = []
            for escalation in open_:
                fact = latest.get((escalation.subject_ref, escalation.reporter_org_id))
                reason = _close_reason(fact) if fact is not None else None
                if reason is not None:
                    ending.append((escalation.id, reason, fact.placed_date))
        if dry_run:
            return len(ending)
        closed = 0
        for escalation_id, reason, placed in ending:
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                if self.close(session, escalation_id, reason, placed, now):
                    closed += 1
        if closed:
            self.publish_gauges()
        return closed

    # closing (shared with the placement observer) -----------------------------------------
    def close_for_report(
        self,
        session: Session,
        subject_ref: str,
        reporter_org_id: int,
        payload: dict,
        now: datetime,
    ) -> int:
        """Close the reporter's open escalations about this child when its report ``payload``
        places the child or records an exemption; in the caller's (the send's) transaction,
        which already holds the audit lock. Returns how many closed."""
        reason = _close_reason_of(payload.get("category"), payload.get("placed_date"))
        if reason is None:
            return 0
        placed = date.fromisoformat(payload["placed_date"]) if reason == "placed" else None
        ids = session.scalars(
            select(PactEscalation.id)
            .join(PactCase, PactCase.id == PactEscalation.case_id)
            .where(
                PactEscalation.subject_ref == subject_ref,
                PactEscalation.reporter_org_id == reporter_org_id,
                PactCase.status == "open",
            )
        ).all()
        closed = sum(
            1 for escalation_id in ids if self.close(session, escalation_id, reason, placed, now)
        )
        return closed

    def close(
        self, session: Session, escalation_id: int, reason: str, placed: date | None, now: datetime
    ) -> bool:
        """Close one escalation: the case ``closed`` (``close_reason`` placed or exempted),
        ``escalation.close`` audited, and the holder told by ``homebound_escalation_closed``
        if it was ever told of the escalation."""
        escalation = session.get(PactEscalation, escalation_id)
        case = session.get(PactCase, escalation.case_id)
        if case is None or case.status != "open":
            return False
        operator = _operator(session)
        if operator is None:
            return False
        today = local_date(now, self.timezone)
        end = placed or today
        days = max(0, (end - escalation.since_date).days)
        case.status, case.closed_at, case.close_reason, case.updated_at = (
            "closed",
            now,
            reason,
            now,
        )
        escalation.placed_date = placed
        escalation.closed_on = today
        basis = RegionDirectory(session).basis(escalation.region_code)
        context = _Context(session, operator, case.id, case.subject_ref, legal_basis(basis), now)
        self._event(context, "escalation.close", reason=reason)
        holder = session.get(Organisation, escalation.holder_org_id)
        if escalation.delivered and holder is not None:
            participant = session.scalars(
                select(PactParticipant).where(
                    PactParticipant.case_id == case.id, PactParticipant.org_id == holder.id
                )
            ).one()
            payload = {"case_ref": participant.case_ref, "reason": reason}
            if placed is not None:
                payload["placed_date"] = placed.isoformat()
            payload["days_at_home"] = days
            self._send(context, CLOSED_TYPE, holder, payload)
        metrics.PACT_ESCALATIONS.labels(region=escalation.region_code, event="closed").inc()
        return True

    # gauges ---------------------------------------------------------------------------------
    def refresh_gauges(self) -> None:
        """:meth:`publish_gauges` for a scrape: with the database unreachable the last
        values stay and the scrape still answers (it is how an outage is seen)."""
        try:
            self.publish_gauges()
        except SQLAlchemyError:
            log.warning("pact gauges not refreshed: the database did not answer")

    def publish_gauges(self) -> None:
        """Set ``gateway_pact_escalations_open{region}`` for every configured region and
        ``gateway_pact_escalations_undelivered`` from the database (the newest writer wins
        across processes, so the daily run and the placement observer keep them current)."""
        with self.db.session() as session:
            self.publish_gauges_in(session)

    def publish_gauges_in(self, session: Session) -> None:
        open_by_region = dict(
            session.execute(
                select(PactCase.region_code, func.count(PactCase.id))
                .where(PactCase.kind == "escalation", PactCase.status == "open")
                .group_by(PactCase.region_code)
            ).all()
        )
        codes = {region.code for region in RegionDirectory(session).regions()}
        for code in sorted(codes | {c for c in open_by_region if c}):
            metrics.PACT_ESCALATIONS_OPEN.labels(region=code).set(open_by_region.get(code, 0))
        undelivered = session.scalar(
            select(func.count(PactEscalation.id))
            .join(PactCase, PactCase.id == PactEscalation.case_id)
            .where(PactEscalation.delivered.is_(False), PactCase.status == "open")
        )
        metrics.PACT_ESCALATIONS_UNDELIVERED.set(undelivered or 0)

    # the pieces of one escalation -------------------------------------------------------------
    def _participant(self, context: _Context, org: Organisation, role: str, told: bool) -> str:
        case_ref = str(uuid.uuid4())
        context.session.execute(
            insert(PactParticipant),
            {
                "case_id": context.case_id,
                "org_id": org.id,
                "role": role,
                "case_ref": case_ref,
                "status": "notified" if told else "undelivered",
                "joined_at": context.now,
            },
        )
        return case_ref

    def _tell_holder(
        self,
        context: _Context,
        holder: Organisation,
        reporter: Organisation,
        fact: MonitoringFact,
        case_ref: str,
        code: str,
        norm: int,
        days: int,
    ) -> str:
        """The holder's item (the minimal dataset) and its disclosures: it learned of the
        reporter and of each involved organisation."""
        involved = involved_organisations(
            context.session, fact.subject_ref, holder, reporter.id, context.now
        )
        payload = {
            "case_ref": case_ref,
            "region": code,
            "norm_days": norm,
            "since_date": fact.since_date.isoformat(),
            "days_at_home": days,
            "category": fact.category,
            **self._child_details(context.session, fact),
            "reporter": org_entry(reporter),
            "involved": [org_entry(org) for org in involved],
        }
        message_id = self._send(context, MESSAGE_TYPE, holder, payload)
        self._set_exchange(context, holder, message_id)
        for learned in (reporter, *involved):
            if learned.id != holder.id:
                self._disclose(context, holder, learned)
        return message_id

    def _tell_reporter(
        self,
        context: _Context,
        holder: Organisation,
        reporter: Organisation,
        fact: MonitoringFact,
        case_ref: str,
        code: str,
        norm: int,
        days: int,
    ) -> None:
        """The reporter's item (that, and to whom, the case escalated) and its disclosure; a
        suspended reporter gets nothing (a denied send in the operator's view)."""
        if reporter.status != ACTIVE:
            self.audit.append(
                context.session,
                AuditEvent(
                    action="exchange.send",
                    decision="denied",
                    actor_org=context.operator.oin,
                    sender=context.operator.oin,
                    recipient=reporter.oin,
                    message_type=MESSAGE_TYPE,
                    purpose=PURPOSE,
                    legal_basis=context.basis,
                    subject_ref=context.subject_ref,
                    reason="recipient_suspended",
                    case_id=context.case_id,
                ),
                context.now,
            )
            return
        payload = {
            "case_ref": case_ref,
            "region": code,
            "norm_days": norm,
            "since_date": fact.since_date.isoformat(),
            "days_at_home": days,
            "holder": org_entry(holder),
            "report_id": fact.message_id,
        }
        message_id = self._send(context, MESSAGE_TYPE, reporter, payload)
        self._set_exchange(context, reporter, message_id)
        self._disclose(context, reporter, holder)

    def _child_details(self, session: Session, fact: MonitoringFact) -> dict:
        """``education_sector`` and ``birth_year`` of the report that started the clock.

        The monitoring fact keeps neither (yet: columns asked of the migration's owner), so
        they are read from the report as stored for its recipient (minimised: the birth year,
        not the date). The recipient's acknowledgement erases that payload; then the fact's
        columns are the only source, and without them the two members are left out (logged,
        the reporter's OIN only)."""
        details = {
            name: getattr(fact, name)
            for name in ("education_sector", "birth_year")
            if getattr(fact, name, None) is not None
        }
        if len(details) == 2:
            return details
        row = session.scalars(select(Message).where(Message.id == fact.message_id)).first()
        if row is not None and row.ciphertext is not None:
            stored = self.sealer.open(row.id, row.key_version, row.ciphertext).get("payload", {})
            details = {
                name: stored[name]
                for name in ("education_sector", "birth_year")
                if stored.get(name) is not None
            } | details
        if len(details) < 2:
            log.warning(
                "escalation without education sector or birth year: the report of reporter "
                "org %s was acknowledged before the norm and its fact keeps neither",
                fact.sender_org_id,
            )
        return details

    def _send(self, context: _Context, message_type: str, org: Organisation, payload: dict) -> str:
        subject = self.pseudonymiser.translate(
            context.subject_ref, "audit", organisation_domain(org.oin)
        )
        message = GeneratedMessage(
            message_type=message_type,
            operator_org_id=context.operator.id,
            operator_oin=context.operator.oin,
            recipient_org_id=org.id,
            recipient_oin=org.oin,
            subject={"pseudonym": subject},
            subject_ref=context.subject_ref,
            payload=payload,
            purpose=PURPOSE,
            legal_basis=context.basis,
            retention_days=RETENTION_DAYS,
            fsc_transaction_id=new_transaction_id(),
            case_id=context.case_id,
        )
        return store_generated(context.session, self.sealer, self.audit, message, context.now)

    def _set_exchange(self, context: _Context, org: Organisation, message_id: str) -> None:
        context.session.execute(
            update(PactParticipant)
            .where(PactParticipant.case_id == context.case_id, PactParticipant.org_id == org.id)
            .values(invitation_exchange_id=message_id, status="notified")
        )

    def _disclose(self, context: _Context, learner: Organisation, learned: Organisation) -> None:
        """Rule 6's record: ``learner`` learned that ``learned`` is involved; once per pair,
        written as every case's disclosures are (:mod:`gateway.pact.disclosures`), with the
        operator as the actor."""
        about = Disclosure(
            case_id=context.case_id,
            purpose=PURPOSE,
            legal_basis=context.basis,
            consent_id=None,
            subject_ref=context.subject_ref,
            actor_org=context.operator.oin,
            actor_client_id=None,
        )
        pair = (Party(learner.id, learner.oin), Party(learned.id, learned.oin))
        disclose(context.session, self.audit, about, [pair], context.now)

    def _event(self, context: _Context, action: str, **fields) -> None:
        """An event of the operator about this case's child (as ``signal.match``: the operator
        organisation acts, no client, no user)."""
        self.audit.append(
            context.session,
            AuditEvent(
                action=action,
                decision="allowed",
                actor_org=context.operator.oin,
                purpose=PURPOSE,
                legal_basis=context.basis,
                subject_ref=context.subject_ref,
                case_id=context.case_id,
                **fields,
            ),
            context.now,
        )


@dataclass(frozen=True)
class _Context:
    """One transaction's work on one escalation."""

    session: Session
    operator: Organisation
    case_id: str
    subject_ref: str
    basis: dict
    now: datetime


def _operator(session: Session) -> Organisation | None:
    return session.scalars(
        select(Organisation)
        .where(Organisation.type == "operator")
        .order_by(Organisation.id)
        .limit(1)
    ).first()


def _close_reason_of(category: str | None, placed_date) -> str | None:
    if placed_date:
        return "placed"
    if category in EXEMPTIONS:
        return "exempted"
    return None


def _close_reason(fact: MonitoringFact) -> str | None:
    return _close_reason_of(fact.category, fact.placed_date)
