"""The kinds of record about a child that retention erases, each as the tables know it.

A :class:`RecordKind` says which rows are past their term (``due``), how to erase a batch of
them, and which column names the child in which pseudonym domain; the last two let the audit
purge ask whether any record of a child is still kept. Consents, signals and
re-identification requests bring their own table knowledge (their areas'
``retention`` modules); the two kinds below live here because they are retention's own
business in tables whose areas know nothing of it:

- the **exchange record** (a ``messages`` row whose payload is gone) keeps its row for the
  counts and the delivery history, but its child reference (``subject_ref``, the audit
  pseudonym) is blanked with the audit trail of its purpose, counted from the send. The
  column is not nullable, and an empty string matches no pseudonym;
- the **monitoring fact** (``monitoring_facts``, kept for the pact's indicators after the
  payload is gone) is deleted with its alerts;
- the **pact case** (``pact_cases``, issue 20) is deleted with its participants, agreements,
  disclosures and escalation once closed longer ago than its purpose's term
  (``audit_subject_days``: ``case_consultation``, ``exemption_advice``,
  ``homebound_escalation``); an open case is never due. While it is kept, the child's audit
  references are kept too (it names the child, as a consent or a fact does);
- the **breach-register entry** (``retractions``) is deleted once confirmed long enough ago.
  It names no child (``child`` None: it holds no audit reference back), only exchange ids the
  audit log holds anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, false, or_, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..consents import retention as consents
from ..exchange.models import Message, Retraction
from ..monitoring.models import MonitoringAlert, MonitoringFact
from ..pact.models import (
    PactAgreement,
    PactCase,
    PactDisclosure,
    PactEscalation,
    PactParticipant,
)
from ..reidentification import retention as reidentifications
from ..signals import retention as signals
from .policy import RetentionPolicy

ERASED = ""
"""The blanked child reference of an exchange record."""


@dataclass(frozen=True)
class RecordKind:
    name: str
    key: InstrumentedAttribute
    child: InstrumentedAttribute | None
    """The column naming the child (None: the kind names none)."""
    domain: str
    due: ColumnElement[bool]
    erase: Callable[[Session, Sequence], None]


def _exchange_due(policy: RetentionPolicy, now: datetime) -> ColumnElement[bool]:
    """Payload gone (or going in this run: past its route's retention), child still named,
    and the send older than its purpose's audit term (a purpose not in the policy gets the
    longest term)."""
    known = [p for p in policy.audit_subject_days if p != "without_purpose"]
    by_purpose = [
        and_(Message.purpose == p, Message.created_at < now - policy.audit_term(p)) for p in known
    ]
    longest = now - timedelta(days=max(policy.audit_subject_days.values()))
    return and_(
        or_(
            and_(Message.ciphertext.is_(None), Message.pep_delivered.is_(None)),
            Message.retain_until <= now,
        ),
        Message.subject_ref != ERASED,
        or_(
            false(),
            *by_purpose,
            and_(Message.purpose.not_in(known), Message.created_at < longest),
        ),
    )


def _blank_exchanges(session: Session, ids: Sequence[str]) -> None:
    session.execute(update(Message).where(Message.id.in_(ids)).values(subject_ref=ERASED))


def _erase_facts(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(MonitoringAlert).where(MonitoringAlert.fact_id.in_(ids)))
    session.execute(delete(MonitoringFact).where(MonitoringFact.id.in_(ids)))


def _cases_due(policy: RetentionPolicy, now: datetime) -> ColumnElement[bool]:
    """Closed longer ago than the audit term of the case's purpose (a purpose not in the
    policy gets the longest term, as for exchange records)."""
    known = [p for p in policy.audit_subject_days if p != "without_purpose"]
    longest = now - timedelta(days=max(policy.audit_subject_days.values()))
    return and_(
        PactCase.closed_at.is_not(None),
        or_(
            false(),
            *[
                and_(PactCase.purpose == p, PactCase.closed_at < now - policy.audit_term(p))
                for p in known
            ],
            and_(PactCase.purpose.not_in(known), PactCase.closed_at < longest),
        ),
    )


def _erase_cases(session: Session, ids: Sequence[str]) -> None:
    """A case with everything that hangs from it (children first: no cascade is relied on)."""
    for table in (PactEscalation, PactDisclosure, PactAgreement, PactParticipant):
        session.execute(delete(table).where(table.case_id.in_(ids)))
    session.execute(delete(PactCase).where(PactCase.id.in_(ids)))


def _erase_retractions(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(Retraction).where(Retraction.id.in_(ids)))


def record_kinds(policy: RetentionPolicy, now: datetime, timezone: str) -> list[RecordKind]:
    """Every kind of record, with what is due at ``now``; the audit trail is not one of
    them (its references are shredded last, :mod:`gateway.audit.shredding`)."""

    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    return [
        RecordKind(
            "consents",
            consents.KEY,
            consents.CHILD,
            consents.CHILD_DOMAIN,
            consents.ended_before(before(policy.consents_days_after_end), timezone),
            consents.erase_consents,
        ),
        RecordKind(
            "signals",
            signals.KEY,
            signals.CHILD,
            signals.CHILD_DOMAIN,
            signals.closed_before(before(policy.signals_days_after_close)),
            signals.erase_signals,
        ),
        RecordKind(
            "reidentification_requests",
            reidentifications.KEY,
            reidentifications.CHILD,
            reidentifications.CHILD_DOMAIN,
            reidentifications.settled_before(before(policy.reidentification_days_after_decision)),
            reidentifications.erase_requests,
        ),
        RecordKind(
            "exchange_records",
            Message.id,
            Message.subject_ref,
            "audit",
            _exchange_due(policy, now),
            _blank_exchanges,
        ),
        RecordKind(
            "monitoring_facts",
            MonitoringFact.id,
            MonitoringFact.subject_ref,
            "audit",
            MonitoringFact.reported_at < before(policy.monitoring_facts_days),
            _erase_facts,
        ),
        RecordKind(
            "pact_cases",
            PactCase.id,
            PactCase.subject_ref,
            "audit",
            _cases_due(policy, now),
            _erase_cases,
        ),
        RecordKind(
            "breach_register",
            Retraction.id,
            None,
            "",
            Retraction.confirmed_at < before(policy.breach_register_days_after_confirmation),
            _erase_retractions,
        ),
    ]
