"""The consultation over plain Python (docs/pact-workflows.md sections 2 and 3): the case
service with the exchange it sends through, a consent checker that allows what the test says,
and an injected clock; no Flask.

What is checked here is the case's own bookkeeping (statuses, references, disclosures, the
agreements' numbering, the events' case index) under refusals the HTTP tests cannot easily
make (a consent that ends between two actions, a second invitee of the same organisation).
The world is used by test_exemption.py, test_batch.py and test_disclosures.py too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from consent.interfaces import ConsentChecker, ConsentDecision, ConsentQuestion
from gateway.audit.log import AuditLog
from gateway.audit.models import AuditEventRow
from gateway.clock import local_date
from gateway.exchange.errors import Refusal
from gateway.exchange.observers import CompositeObserver
from gateway.exchange.service import ExchangeService
from gateway.keys import KeyStore
from gateway.monitoring.facts import FactRecorder
from gateway.pact.advice_observer import AdviceObserver
from gateway.pact.errors import (
    CaseActionNotAllowed,
    CaseAlreadyAnswered,
    CaseClosed,
    CaseNotFound,
    UnknownParticipant,
)
from gateway.pact.models import PactAgreement, PactCase, PactParticipant
from gateway.pact.service import CaseService
from gateway.registry.service import OrganisationRegistry
from gateway.sealing import MESSAGES, Sealer
from gateway.storage.database import Database
from gateway.transaction import new as new_transaction_id
from pseudonymise import Bsn, DomainPseudonymiser
from tests import exchange_helpers as ex

NOW = datetime(2027, 3, 2, 9, 15, tzinfo=UTC)
TODAY = local_date(NOW)
CONSENT_ID = "074d3cfe-0bc2-407d-8106-553f2d0ef17d"


class Consents(ConsentChecker):
    """Allows every exchange of the purpose ``case_consultation`` unless told otherwise."""

    def __init__(self) -> None:
        self.refuse: dict[str, str] = {}  # recipient OIN -> code
        self.ended: str | None = None

    def answer(self, question: ConsentQuestion) -> ConsentDecision:
        code = self.ended or self.refuse.get(question.recipient.oin)
        if code:
            return ConsentDecision(False, None, code)
        return ConsentDecision(True, CONSENT_ID)


@dataclass(frozen=True)
class Caller:
    client_id: str
    org_id: int
    org_oin: str
    org_type: str
    org_name: str
    scopes: frozenset = frozenset({"exchange:send", "exchange:receive"})


@dataclass
class World:
    db: Database
    registry: OrganisationRegistry
    orgs: dict
    pseudonymiser: DomainPseudonymiser
    consents: Consents
    exchanges: ExchangeService
    cases: CaseService
    clock: dict = field(default_factory=dict)

    def caller(self, oin: str) -> Caller:
        org = self.orgs[oin]
        return Caller(f"c-{oin[-4:]}", org.id, org.oin, org.type, org.name)

    def inbox(self, oin: str) -> list[dict]:
        return self.exchanges.inbox(self.caller(oin), None, 100)["items"]

    def open(self, body: dict, sender: str = ex.SCHOOL, key: str | None = None) -> dict:
        return self.cases.open(
            self.caller(sender), lambda: body, key or new_transaction_id(), new_transaction_id()
        )

    def events(self, action: str, decision: str = "allowed") -> list[AuditEventRow]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(AuditEventRow)
                    .where(AuditEventRow.action == action, AuditEventRow.decision == decision)
                    .order_by(AuditEventRow.seq)
                )
            )


def build_world(database_url: str, keys_dir) -> World:
    db = Database(database_url)
    registry = OrganisationRegistry(db, production=False)
    orgs = {oin: registry.add_organisation(oin, name, kind) for oin, name, kind in ex.ORGANISATIONS}
    keyring = KeyStore(keys_dir, allow_generate=False).keyring
    pseudonymiser, sealer, audit = (
        DomainPseudonymiser(keyring),
        Sealer(keyring, MESSAGES),
        AuditLog(),
    )
    clock = {"now": NOW}
    consents = Consents()
    exchanges = ExchangeService(
        db,
        pseudonymiser,
        consents,
        sealer,
        audit,
        lambda: clock["now"],
        observer=CompositeObserver([FactRecorder(), AdviceObserver()]),
    )
    cases = CaseService(db, exchanges, audit, sealer, lambda: clock["now"])
    return World(db, registry, orgs, pseudonymiser, consents, exchanges, cases, clock)


@pytest.fixture
def world(database_url, keys_dir) -> World:
    return build_world(database_url, keys_dir)


def invitation() -> dict:
    return {
        "meeting": {"date": (TODAY + timedelta(days=10)).isoformat(), "mode": "online"},
        "question": "return_to_school",
        "concern_categories": ["wellbeing"],
        "education_sector": "po",
        "school_brin": "12AB",
        "date_of_birth": ex.born(TODAY, 11),
        "respond_by": (TODAY + timedelta(days=5)).isoformat(),
        "contact": {"name": "Mentor", "email": "mentor@example.nl"},
    }


def consultation(invite: list, bsn: str = ex.BSN) -> dict:
    return {
        "kind": "consultation",
        "subject": {"bsn": bsn},
        "invite": invite,
        "payload": invitation(),
    }


def refs_of(world: World, oins) -> dict[str, str]:
    return {
        oin: next(
            i["payload"]["case_ref"]
            for i in world.inbox(oin)
            if i["message_type"] == "case_invitation"
        )
        for oin in oins
    }


def test_opening_makes_one_participant_and_one_ref_each(world):
    answer = world.open(consultation([ex.GGD, ex.LEERPLICHT, ex.WIJ]))
    with world.db.session() as session:
        [case] = session.scalars(select(PactCase)).all()
        participants = session.scalars(select(PactParticipant).order_by(PactParticipant.id)).all()
        assert (case.kind, case.status, case.consent_id) == ("consultation", "open", CONSENT_ID)
        assert case.meeting_date == TODAY + timedelta(days=10)
        assert case.subject_ref == world.pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit")
        assert [(p.role, p.status) for p in participants] == [
            ("convener", "convener"),
            ("invitee", "invited"),
            ("invitee", "invited"),
            ("invitee", "invited"),
        ]
        refs = [p.case_ref for p in participants]
        # the internal id is never a participant's ref, and no ref is shared
        assert len(set(refs)) == 4 and case.id not in refs
        assert answer["case_ref"] == refs[0]
        assert [p.invitation_exchange_id for p in participants[1:]] == [
            p["exchange_id"] for p in answer["participants"]
        ]
    # 3 invitees each learned of the convener and the 2 others
    assert len(world.events("case.disclose")) == 9
    # every event of the case carries the case's index, and no event's document holds a ref
    events = (
        world.events("case.open") + world.events("exchange.send") + world.events("case.disclose")
    )
    assert {e.case_id for e in events} == {case.id}
    assert not any(ref in e.canonical or case.id in e.canonical for e in events for ref in refs)


def test_one_refusal_refuses_all_and_is_audited_once(world):
    world.consents.refuse[ex.WIJ] = "consent_missing"
    with pytest.raises(Refusal) as refused:
        world.open(consultation([ex.GGD, ex.WIJ]))
    assert refused.value.code == "consent_missing"
    assert refused.value.errors == {"invite.1": ["No valid consent covers this exchange."]}
    with world.db.session() as session:
        assert session.scalars(select(PactCase)).all() == []
    assert world.inbox(ex.GGD) == []
    [denied] = world.events("case.open", "denied")
    assert denied.recipient is None and denied.case_id is None
    assert world.events("exchange.send", "denied") == []


def test_answers_and_their_conflicts(world):
    answer = world.open(consultation([ex.GGD, ex.WIJ]))
    refs = refs_of(world, [ex.GGD, ex.WIJ])
    ggd, wij, school = world.caller(ex.GGD), world.caller(ex.WIJ), world.caller(ex.SCHOOL)
    assert world.cases.accept(ggd, refs[ex.GGD], {}, None)["status"] == "accepted"
    assert world.cases.decline(wij, refs[ex.WIJ], {"reason": "not_involved"}, None)["status"] == (
        "declined"
    )
    with pytest.raises(CaseAlreadyAnswered):
        world.cases.accept(wij, refs[ex.WIJ], {}, None)
    with pytest.raises(CaseActionNotAllowed):
        world.cases.accept(school, answer["case_ref"], {}, None)
    with pytest.raises(CaseNotFound):  # another participant's ref is nobody's but its owner's
        world.cases.accept(ggd, refs[ex.WIJ], {}, None)
    with world.db.session() as session:
        rows = {p.org_id: p for p in session.scalars(select(PactParticipant))}
        assert rows[ggd.org_id].answer_exchange_id and rows[wij.org_id].decline_reason == (
            "not_involved"
        )
    [accept] = world.events("case.accept")
    assert (accept.exchange_id, accept.sender, accept.recipient) == (
        rows[ggd.org_id].invitation_exchange_id,
        ex.GGD,
        ex.SCHOOL,
    )


def test_agreements_are_numbered_and_replace_the_earlier_set(world):
    answer = world.open(consultation([ex.GGD]))
    ref = refs_of(world, [ex.GGD])[ex.GGD]
    world.cases.accept(world.caller(ex.GGD), ref, {}, None)
    due = (TODAY + timedelta(days=7)).isoformat()

    def agree(*parties):
        return world.cases.agreements(
            world.caller(ex.SCHOOL),
            answer["case_ref"],
            {
                "regie": ex.SCHOOL,
                "agreements": [{"party": p, "action": "other", "due_date": due} for p in parties],
                "next_review_date": due,
            },
            None,
        )

    first = agree(ex.GGD, "school", "youth")
    assert [a["no"] for a in first["agreements"]] == [1, 2, 3]
    assert first["agreements"][2]["party"] == {"role": "youth"}
    agree("parents")
    with world.db.session() as session:
        rows = session.scalars(select(PactAgreement)).all()
        case = session.scalars(select(PactCase)).one()
        assert [(a.no, a.party_role, a.party_org_id) for a in rows] == [(1, "parents", None)]
        assert (case.status, case.regie_org_id) == ("agreed", world.orgs[ex.SCHOOL].id)
    with pytest.raises(UnknownParticipant) as unknown:
        agree(ex.WIJ)
    assert unknown.value.errors == {"agreements.0.party": ["Not a participant that accepted."]}
    assert [i["message_type"] for i in world.inbox(ex.GGD)] == [
        "case_invitation",
        "case_agreements",
        "case_agreements",
    ]


def test_a_consent_that_ended_closes_the_case_once(world):
    answer = world.open(consultation([ex.GGD]))
    ref = refs_of(world, [ex.GGD])[ex.GGD]
    world.consents.ended = "consent_expired"
    with pytest.raises(Refusal) as refused:
        world.cases.accept(world.caller(ex.GGD), ref, {}, None)
    assert refused.value.code == "consent_expired"
    with world.db.session() as session:
        case = session.scalars(select(PactCase)).one()
        assert (case.status, case.close_reason) == ("closed", "consent_expired")
    with pytest.raises(CaseClosed):
        world.cases.accept(world.caller(ex.GGD), ref, {}, None)
    closed = world.cases.close(
        world.caller(ex.SCHOOL), answer["case_ref"], {"reason": "other"}, None
    )
    assert closed["close_reason"] == "consent_expired"  # a repeat: the first reason stands
    assert len(world.events("case.close")) == 1
    denied = [json.loads(e.canonical)["reason"] for e in world.events("case.accept", "denied")]
    assert denied == ["consent_expired", "case_closed"]


def test_the_same_organisation_twice_is_refused_after_resolution(world):
    with pytest.raises(Refusal) as refused:
        world.open(consultation([ex.GGD, ex.GGD]))
    assert refused.value.code == "validation_failed"
