"""The retention purge as a service: records first, the audit trail last, one event per run.

A child's audit references are kept while any other record of the child is kept (here: a
consent), because that record names the child and the ids of its events; once the consent is
past its own term both go in one run. A dry run predicts a real run's counts and changes and
records nothing. The run's own event carries the counts, never the child.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gateway.audit.actors import OPERATOR, Actor
from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.consents.models import ConsentRow, ConsentStatusRow
from gateway.keys import KeyStore
from gateway.registry.service import OrganisationRegistry
from gateway.retention.policy import load_retention_policy
from gateway.retention.purge import PURGE_ACTION, RetentionService
from gateway.storage.database import Database
from gateway.storage.models import Organisation
from pseudonymise import Bsn, DomainPseudonymiser

START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
SCHOOL = "00000001001234567000"
BSN = "111222333"
ACTOR = Actor(None, OPERATOR, user="gateway retention purge")


class World:
    def __init__(self, url, keys_dir):
        self.db = Database(url)
        self.pseudonymiser = DomainPseudonymiser(KeyStore(keys_dir, allow_generate=False).keyring)
        registry = OrganisationRegistry(self.db, production=False)
        registry.add_organisation(SCHOOL, "OBS De Regenboog", "school")
        with self.db.session() as session:
            self.school_id = session.scalar(select(Organisation.id).where(Organisation.oin == SCHOOL))
        self.policy = load_retention_policy()
        self.clock_now = START
        self.service = RetentionService(
            self.db, self.pseudonymiser, AuditLog(), lambda: self.clock_now, self.policy
        )
        self.audit_ref = self.pseudonymiser.pseudonymise(Bsn(BSN), "audit")

    def event(self, at, purpose="support", consent_id=None):
        event = AuditEvent("consent.record", "allowed", actor_org=SCHOOL, purpose=purpose,
                           consent_id=consent_id, subject_ref=self.audit_ref, clear_to=(SCHOOL,))
        with self.db.write_session() as session:
            AuditLog().append(session, event, at)

    def consent(self, at, valid_until: date, withdrawn_at=None) -> str:
        consent_id = str(uuid.uuid4())
        with self.db.write_session() as session:
            session.add(ConsentRow(
                id=consent_id, subject_ref=self.pseudonymiser.pseudonymise(Bsn(BSN), "consent"),
                purpose="support", parties=[SCHOOL, "wij"], grantor_roles=["parent"],
                valid_from=at.date(), valid_until=valid_until, evidence_method="digital",
                recorded_by_org_id=self.school_id, created_at=at, withdrawn_at=withdrawn_at,
                key_version=1, sealed=b"sealed", receipt="header.claims.signature",
            ))
            session.flush()
            session.add(ConsentStatusRow(consent_id=consent_id, status="recorded", at=at))
        return consent_id

    def child_refs(self) -> int:
        with self.db.session() as session:
            return session.scalar(
                select(func.count(AuditEventRow.seq)).where(AuditEventRow.subject_ref.is_not(None))
            )

    def purge_events(self) -> list[dict]:
        with self.db.session() as session:
            return [json.loads(c) for c in session.scalars(
                select(AuditEventRow.canonical).where(AuditEventRow.action == PURGE_ACTION)
                .order_by(AuditEventRow.seq))]  # in order: PostgreSQL promises none without


@pytest.fixture
def world(database_url, keys_dir):
    made = World(database_url, keys_dir)
    yield made
    made.db.dispose()


def days(n: int) -> timedelta:
    return timedelta(days=n)


def test_a_kept_consent_holds_the_childs_trail_until_both_are_past_their_terms(world):
    support = world.policy.audit_term("support")
    after_end = days(world.policy.consents_days_after_end)
    ends = START + days(400)  # the consent runs long after its recording was due
    consent_id = world.consent(START, valid_until=ends.date())
    world.event(START, consent_id=consent_id)

    held = world.service.purge(ACTOR, "test", now=START + support + days(1))
    assert held.records["consents"] == 0 and held.audit_events == 0 and held.audit_held == 1
    assert world.child_refs() == 1

    done = world.service.purge(ACTOR, "test", now=ends + after_end + days(2))
    assert done.records["consents"] == 1 and done.audit_events == 1 and done.audit_held == 0
    assert world.child_refs() == 0
    with world.db.session() as session:
        assert session.scalar(select(func.count(ConsentRow.seq))) == 0
        assert session.scalar(select(func.count(ConsentStatusRow.id))) == 0


def test_a_consent_ends_when_withdrawn_and_counts_from_then(world):
    after_end = days(world.policy.consents_days_after_end)
    withdrawn = START + days(10)
    world.consent(START, valid_until=(START + days(3000)).date(), withdrawn_at=withdrawn)
    early = world.service.purge(ACTOR, "test", now=withdrawn + after_end - days(1))
    assert early.records["consents"] == 0
    due = world.service.purge(ACTOR, "test", now=withdrawn + after_end + days(1))
    assert due.records["consents"] == 1


def test_a_dry_run_predicts_the_run_and_changes_and_records_nothing(world):
    consent_id = world.consent(START, valid_until=(START + days(30)).date())
    world.event(START, consent_id=consent_id)
    world.event(START + days(1), purpose="leerplicht_enforcement")
    now = START + days(4000)
    dry = world.service.purge(ACTOR, "test", now=now, dry_run=True)
    assert world.child_refs() == 2 and world.purge_events() == []
    real = world.service.purge(ACTOR, "test", now=now)
    assert (dry.records, dry.audit_events, dry.payloads) == (
        real.records, real.audit_events, real.payloads)
    assert real.audit_events == 2 and real.records["consents"] == 1


def test_each_run_is_one_event_with_the_counts_and_the_reason_never_the_child(world):
    world.event(START)
    world.clock_now = START + days(4000)
    world.service.purge(ACTOR, "tweede kwartaal")
    world.service.purge(ACTOR, "")
    first, second = world.purge_events()
    assert first["actor"] == {"org": None, "client_id": None, "user": "gateway retention purge"}
    assert "audit_events=1" in first["reason"] and first["reason"].endswith("; tweede kwartaal")
    assert "audit_events=0" in second["reason"]
    assert first["subject_commitment"] is None
    with world.db.session() as session:
        refs = session.scalars(
            select(AuditEventRow.subject_ref).where(AuditEventRow.action == PURGE_ACTION)
        ).all()
    assert refs == [None, None]
    assert world.audit_ref not in json.dumps(world.purge_events())


def test_a_reason_too_long_is_refused_before_anything_is_erased(world):
    world.event(START)
    with pytest.raises(ValueError, match="longer than"):
        world.service.purge(ACTOR, "x" * 301, now=START + days(4000))
    assert world.child_refs() == 1


def test_the_breach_register_keeps_an_entry_until_long_after_its_confirmation(world):
    """A retraction is the breach register's entry (AVG art. 33(5)): kept while open, and
    for the policy's term after the recipient confirmed erasure; it holds no child's trail."""
    from gateway.exchange.models import Retraction

    term = days(world.policy.breach_register_days_after_confirmation)
    confirmed = START + days(3)

    def entry(exchange_id: str, confirmed_at):
        with world.db.write_session() as session:
            session.add(Retraction(
                exchange_id=exchange_id, message_type="absence_report",
                sender_org_id=world.school_id, recipient_org_id=world.school_id,
                reason="wrong_child", remarks="Verkeerde leerling gekozen", retracted_at=START,
                recipient_status="delivered", payload_erased=True,
                notice_id=str(uuid.uuid4()), audit_seq=1, audit_hash="0" * 64,
                confirmed_at=confirmed_at))

    entry(str(uuid.uuid4()), confirmed)
    entry(str(uuid.uuid4()), None)  # never confirmed: stays open
    world.event(START, purpose="leerplicht_enforcement")

    kept = world.service.purge(ACTOR, "test", now=confirmed + term - days(1))
    assert kept.records["breach_register"] == 0
    gone = world.service.purge(ACTOR, "test", now=confirmed + term + days(1))
    assert gone.records["breach_register"] == 1
    with world.db.session() as session:
        left = session.scalars(select(Retraction.confirmed_at)).all()
    assert left == [None]
    # the register holds no child's trail: the event went when its own term was over
    assert kept.audit_events + gone.audit_events == 1
    assert kept.audit_held == gone.audit_held == 0
