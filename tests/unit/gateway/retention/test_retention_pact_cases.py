"""Retention of the pact's cases (docs/pact-workflows.md 2.1): a closed case goes after its
purpose's term counted from its closing (consultation 730 days, escalation 1826), with its
participants, agreements, disclosures and escalation; an open case is never due; and while a
case about a child is kept, the child's audit references are kept (the rule of consents and
facts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from gateway.audit.actors import OPERATOR, Actor
from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.keys import KeyStore
from gateway.pact.models import (
    PactAgreement,
    PactCase,
    PactDisclosure,
    PactEscalation,
    PactParticipant,
)
from gateway.registry.service import OrganisationRegistry
from gateway.retention.policy import load_retention_policy
from gateway.retention.purge import RetentionService
from gateway.storage.database import Database
from pseudonymise import Bsn, DomainPseudonymiser

START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
ACTOR = Actor(None, OPERATOR, user="gateway retention purge")
SCHOOL, SWV = "00000001001234567000", "00000001002345678000"


class World:
    def __init__(self, url, keys_dir):
        self.db = Database(url)
        self.pseudonymiser = DomainPseudonymiser(KeyStore(keys_dir, allow_generate=False).keyring)
        registry = OrganisationRegistry(self.db, production=False)
        self.school = registry.add_organisation(SCHOOL, "OBS De Regenboog", "school").id
        self.swv = registry.add_organisation(SWV, "SWV Groningen Stad", "swv").id
        self.service = RetentionService(
            self.db, self.pseudonymiser, AuditLog(), lambda: START, load_retention_policy()
        )
        self.ref = self.pseudonymiser.pseudonymise(Bsn("111222333"), "audit")

    def case(self, case_id: str, kind: str, purpose: str, closed_at: datetime | None) -> None:
        """A case with one of everything that hangs from it."""
        with self.db.write_session() as session:
            session.execute(
                insert(PactCase),
                {
                    "id": case_id,
                    "kind": kind,
                    "status": "closed" if closed_at else "open",
                    "subject_ref": self.ref,
                    "purpose": purpose,
                    "created_at": START,
                    "updated_at": START,
                    "closed_at": closed_at,
                },
            )
            for org_id, role in ((self.school, "convener"), (self.swv, "invitee")):
                session.execute(
                    insert(PactParticipant),
                    {
                        "case_id": case_id,
                        "org_id": org_id,
                        "role": role,
                        "status": "accepted",
                        "case_ref": f"{case_id[:-4]}{org_id:04d}",
                        "joined_at": START,
                    },
                )
            session.execute(
                insert(PactAgreement),
                {
                    "case_id": case_id,
                    "no": 1,
                    "party_org_id": self.swv,
                    "party_role": "organisation",
                    "action": "other",
                    "due_date": date(2026, 3, 1),
                    "status": "open",
                },
            )
            session.execute(
                insert(PactDisclosure),
                {
                    "case_id": case_id,
                    "learner_org_id": self.swv,
                    "learned_org_id": self.school,
                    "at": START,
                },
            )
            session.execute(
                insert(PactEscalation),
                {
                    "case_id": case_id,
                    "subject_ref": f"{self.ref}-{case_id}",
                    "reporter_org_id": self.school,
                    "holder_org_id": self.swv,
                    "region_code": "groningen",
                    "category": "absolute_absence",
                    "since_date": date(2025, 10, 1),
                    "norm_days": 91,
                    "fired_on": date(2026, 1, 1),
                    "delivered": True,
                },
            )

    def event(self) -> None:
        """One event about the child, of a purpose whose term (730 days) is the shortest."""
        with self.db.write_session() as session:
            AuditLog().append(
                session,
                AuditEvent(
                    "case.open",
                    "allowed",
                    actor_org=SCHOOL,
                    purpose="case_consultation",
                    subject_ref=self.ref,
                ),
                START,
            )

    def rows(self) -> dict[str, int]:
        with self.db.session() as session:
            return {
                table.__tablename__: session.scalar(select(func.count()).select_from(table))
                for table in (
                    PactCase,
                    PactParticipant,
                    PactAgreement,
                    PactDisclosure,
                    PactEscalation,
                )
            }

    def child_refs(self) -> int:
        with self.db.session() as session:
            return session.scalar(
                select(func.count(AuditEventRow.seq)).where(AuditEventRow.subject_ref.is_not(None))
            )


@pytest.fixture
def world(database_url, keys_dir):
    made = World(database_url, keys_dir)
    yield made
    made.db.dispose()


def days(n: int) -> timedelta:
    return timedelta(days=n)


def test_a_closed_case_goes_after_its_purposes_term_with_everything_of_it(world):
    world.case("c-consult-0001", "consultation", "case_consultation", START)
    world.case("c-escalat-0002", "escalation", "homebound_escalation", START)
    world.event()

    early = world.service.purge(ACTOR, "test", now=START + days(729))
    assert early.records["pact_cases"] == 0
    # 730 days after closing the consultation goes; the escalation (1826 days) stays and
    # holds the child's audit reference
    mid = world.service.purge(ACTOR, "test", now=START + days(731))
    assert mid.records["pact_cases"] == 1
    assert world.rows() == {
        "pact_cases": 1,
        "pact_participants": 2,
        "pact_agreements": 1,
        "pact_disclosures": 1,
        "pact_escalations": 1,
    }
    with world.db.session() as session:
        assert session.scalars(select(PactCase.id)).all() == ["c-escalat-0002"]
    assert (mid.audit_events, mid.audit_held) == (0, 1)
    assert world.child_refs() == 1

    late = world.service.purge(ACTOR, "test", now=START + days(1827))
    assert late.records["pact_cases"] == 1
    assert world.rows() == {
        "pact_cases": 0,
        "pact_participants": 0,
        "pact_agreements": 0,
        "pact_disclosures": 0,
        "pact_escalations": 0,
    }
    assert late.audit_events == 1 and world.child_refs() == 0


def test_an_open_case_is_never_due_and_keeps_the_childs_trail(world):
    world.case("c-open-000001", "consultation", "case_consultation", None)
    world.event()
    report = world.service.purge(ACTOR, "test", now=START + days(4000))
    assert report.records["pact_cases"] == 0
    assert (report.audit_events, report.audit_held) == (0, 1)
    assert world.rows()["pact_cases"] == 1


def test_a_dry_run_counts_the_due_cases_and_erases_nothing(world):
    world.case("c-consult-0003", "consultation", "case_consultation", START)
    dry = world.service.purge(ACTOR, "test", now=START + days(800), dry_run=True)
    assert dry.records["pact_cases"] == 1
    assert world.rows()["pact_cases"] == 1
