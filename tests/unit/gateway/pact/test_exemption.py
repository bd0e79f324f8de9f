"""Exemption advice over plain Python (docs/pact-workflows.md section 4): the advisers' answers
are ordinary sends that the advice observer marks on the case in the send's transaction; the
decision closes the case, defaults a missing advice to ``none`` and, for ``exempted_5a``,
writes the homebound fact the existing indicator counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from test_consultation import TODAY, World, build_world

from gateway.audit.models import AuditEventRow
from gateway.exchange.errors import Refusal
from gateway.monitoring.models import MonitoringFact
from gateway.pact.errors import CaseActionNotAllowed, CaseClosed
from gateway.pact.models import PactCase, PactParticipant
from gateway.transaction import new as new_transaction_id
from tests import exchange_helpers as ex


@pytest.fixture
def world(database_url, keys_dir) -> World:
    return build_world(database_url, keys_dir)


def request() -> dict:
    return {
        "school_year": f"{TODAY.year}-{TODAY.year + 1}",
        "requested_on": TODAY.isoformat(),
        "education_sector": "po",
        "date_of_birth": ex.born(TODAY, 11),
        "enrolment": "not_enrolled",
        "respond_by": (TODAY + timedelta(days=20)).isoformat(),
        "contact": {"name": "Leerplicht", "email": "lp@example.nl"},
    }


def open_exemption(world: World, advisers: list) -> dict:
    body = {
        "kind": "exemption_advice",
        "subject": {"bsn": ex.BSN},
        "advisers": advisers,
        "payload": request(),
    }
    return world.open(body, sender=ex.LEERPLICHT)


def answer(world: World, adviser: str, message_type: str, payload: dict) -> dict:
    [item] = [i for i in world.inbox(adviser) if i["message_type"] == "exemption_advice_request"]
    body = {
        "message_type": message_type,
        "recipient": ex.LEERPLICHT,
        "subject": item["subject"],
        "payload": {
            "in_reply_to": item["id"],
            **payload,
            "contact": {"name": "A", "email": "a@example.nl"},
        },
    }
    return world.exchanges.send(
        world.caller(adviser), lambda: body, new_transaction_id(), new_transaction_id()
    )


def case(world: World) -> PactCase:
    with world.db.session() as session:
        return session.scalars(select(PactCase)).one()


def test_both_answers_make_the_case_advised_and_carry_its_index(world):
    opened = open_exemption(world, [ex.GGD, ex.SWV])
    assert opened["status"] == "requested"
    assert world.events("case.disclose") == []  # advisers are not disclosed to each other
    answer(world, ex.GGD, "exemption_medical_advice", {"advice": "unfit_for_school"})
    assert case(world).status == "requested"
    sent = answer(
        world, ex.SWV, "exemption_education_advice", {"arrangement": "not_available", "options": []}
    )
    current = case(world)
    assert (current.status, current.advice_medical, current.advice_education) == (
        "advised",
        "unfit_for_school",
        "not_available",
    )
    with world.db.session() as session:
        event = session.scalars(
            select(AuditEventRow).where(AuditEventRow.exchange_id == sent["id"])
        ).one()
        statuses = session.scalars(
            select(PactParticipant.status).where(PactParticipant.role == "adviser")
        ).all()
    assert event.case_id == current.id and statuses == ["answered", "answered"]
    # a second answer is an ordinary send: the first outcome stands
    answer(world, ex.GGD, "exemption_medical_advice", {"advice": "fit_for_school"})
    assert case(world).advice_medical == "unfit_for_school"


def test_a_decision_without_answers_says_none_and_exempted_writes_the_fact(world):
    opened = open_exemption(world, [ex.GGD])
    leerplicht = world.caller(ex.LEERPLICHT)
    with pytest.raises(CaseActionNotAllowed):
        ggd_ref = next(i["payload"]["case_ref"] for i in world.inbox(ex.GGD))
        world.cases.decide(
            world.caller(ex.GGD),
            ggd_ref,
            {"decision": "exempted_5a", "decided_on": TODAY.isoformat()},
            None,
        )
    decided = world.cases.decide(
        leerplicht,
        opened["case_ref"],
        {
            "decision": "exempted_5a",
            "decided_on": TODAY.isoformat(),
            "valid_until": (TODAY + timedelta(days=300)).isoformat(),
        },
        None,
    )
    assert decided["advice"] == {"medical": "none", "education": "none"}
    current = case(world)
    assert (current.status, current.close_reason, current.decided_on) == (
        "decided",
        "exempted_5a",
        TODAY,
    )
    with world.db.session() as session:
        [fact] = session.scalars(select(MonitoringFact)).all()
    assert (fact.kind, fact.category, fact.since_date, fact.subject_ref) == (
        "homebound",
        "exemption_5a",
        TODAY,
        current.subject_ref,
    )
    with pytest.raises(CaseClosed):
        world.cases.decide(
            leerplicht,
            opened["case_ref"],
            {"decision": "not_exempted", "decided_on": TODAY.isoformat()},
            None,
        )
    # the adviser now reads "closed", never the decision
    ggd_ref = next(i["payload"]["case_ref"] for i in world.inbox(ex.GGD))
    view = world.cases.get(world.caller(ex.GGD), ggd_ref, None)
    assert view["status"] == "closed" and "decision" not in view and view["close_reason"] is None


@pytest.mark.parametrize("advisers", [[ex.SWV], [ex.GGD, ex.GGD]])
def test_exactly_one_ggd_is_asked(world, advisers):
    with pytest.raises(Refusal) as refused:
        open_exemption(world, advisers)
    assert refused.value.code == "validation_failed"


def test_not_exempted_writes_no_fact(world):
    opened = open_exemption(world, [ex.GGD])
    world.cases.decide(
        world.caller(ex.LEERPLICHT),
        opened["case_ref"],
        {"decision": "not_exempted", "decided_on": TODAY.isoformat()},
        None,
    )
    with world.db.session() as session:
        assert session.scalars(select(MonitoringFact)).all() == []
    assert isinstance(case(world).requested_on, date)
