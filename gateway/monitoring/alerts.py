"""Alerts for children approaching six weeks or three months at home.

The pact's norms: no child at home longer than six weeks (Lekstroom) or three months
(Groningen, from August 2024) without an offer of education or care. A leerplicht
organisation that reported a child at home (``homebound_report``, not placed) gets a
``homebound_alert`` in its inbox when the child is within ``lead_days`` of a norm, once per
report and norm, under its own pseudonym for the child. Run daily (``gateway monitoring
alerts``); a missed day is caught up as long as the run falls inside the lead window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from pseudonymise import DomainPseudonymiser, organisation_domain

from ..audit.log import AuditLog
from ..clock import local_date
from ..exchange.generated import GeneratedMessage, store_generated
from ..sealing import Sealer
from ..storage.database import Database
from ..storage.models import Organisation
from .models import MonitoringAlert, MonitoringFact

NORMS = (("approaching_6_weeks", 42), ("approaching_3_months", 91))
LEGAL_BASIS = {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 25"}


def due_alerts(facts: list, today: date, lead_days: int) -> list[tuple]:
    """(fact, alert, threshold_date, days) for unplaced children inside a norm's lead window.

    ``facts`` are the latest homebound facts per (child, reporter); pure, for unit tests.
    """
    due = []
    for fact in facts:
        if fact.placed_date is not None:
            continue
        days = (today - fact.since_date).days
        for alert, norm in NORMS:
            if norm - lead_days <= days < norm:
                due.append((fact, alert, fact.since_date + timedelta(days=norm), days))
    return due


@dataclass(frozen=True)
class _Known:
    """What a run reads first: the homebound facts, the leerplicht organisations that may
    have reported them, the operator (the sender of every alert), the alerts already sent."""

    facts: list
    reporters: dict
    operator: Organisation | None
    sent: set


def issue_alerts(
    db: Database,
    pseudonymiser: DomainPseudonymiser,
    sealer: Sealer,
    audit: AuditLog,
    now: datetime,
    *,
    lead_days: int = 7,
    timezone: str = "Europe/Amsterdam",
) -> int:
    """Create the due alerts; return how many were created (re-running creates none)."""
    known = _known(db)
    if known.operator is None:
        return 0
    latest = {}
    for fact in known.facts:
        if fact.sender_org_id in known.reporters:
            latest[(fact.subject_ref, fact.sender_org_id)] = fact
    created = 0
    today = local_date(now, timezone)
    for fact, alert, threshold, days in due_alerts(list(latest.values()), today, lead_days):
        if (fact.id, alert) in known.sent:
            continue
        reporter = known.reporters[fact.sender_org_id]
        subject = pseudonymiser.translate(
            fact.subject_ref, "audit", organisation_domain(reporter.oin)
        )
        message = _alert_message(known.operator, reporter, subject, fact, (alert, threshold, days))
        try:
            with db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                session.execute(insert(MonitoringAlert), {"fact_id": fact.id, "alert": alert})
                store_generated(session, sealer, audit, message, now)
        except IntegrityError:
            continue  # another run created it first
        created += 1
    return created


def _known(db: Database) -> _Known:
    with db.session() as session:
        facts = list(
            session.scalars(
                select(MonitoringFact)
                .where(MonitoringFact.kind == "homebound")
                .order_by(MonitoringFact.reported_at)
            )
        )
        reporters = {
            org.id: org
            for org in session.scalars(
                select(Organisation).where(Organisation.type == "leerplicht")
            )
        }
        operator = session.scalars(
            select(Organisation).where(Organisation.type == "operator").limit(1)
        ).first()
        sent = set(session.execute(select(MonitoringAlert.fact_id, MonitoringAlert.alert)).all())
    return _Known(facts, reporters, operator, sent)


def _alert_message(
    operator: Organisation, reporter: Organisation, subject: str, fact, due: tuple
) -> GeneratedMessage:
    """The ``homebound_alert`` for the reporter, under its own pseudonym for the child."""
    alert, threshold, days = due
    return GeneratedMessage(
        message_type="homebound_alert",
        operator_org_id=operator.id,
        operator_oin=operator.oin,
        recipient_org_id=reporter.id,
        recipient_oin=reporter.oin,
        subject={"pseudonym": subject},
        subject_ref=fact.subject_ref,
        payload={
            "alert": alert,
            "threshold_date": threshold.isoformat(),
            "since_date": fact.since_date.isoformat(),
            "days_at_home": days,
            "category": fact.category,
            "report_id": fact.message_id,
        },
        purpose="homebound_monitoring",
        legal_basis=LEGAL_BASIS,
        retention_days=180,
        fsc_transaction_id=_transaction_id(),
    )


def _transaction_id() -> str:
    from ..transaction import new

    return new()
