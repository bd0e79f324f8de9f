"""The case's messages go through the exchange's own steps (docs/pact-workflows.md 2.4, R1):
the same step functions as a send, in one transaction, each message with its own transaction
id; a refusal of one stores none."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from test_consultation import World, build_world, consultation

from gateway.exchange import pipeline
from gateway.exchange.errors import Refusal
from gateway.exchange.models import Message, TransactionRecipient
from gateway.pact import batch
from tests import exchange_helpers as ex


@pytest.fixture
def world(database_url, keys_dir) -> World:
    return build_world(database_url, keys_dir)


def test_the_batch_runs_the_pipelines_own_step_functions():
    names = [name for name, _ in batch.RESOLVE + batch.CHECK]
    assert names == [
        "recipient",
        "transaction_id",
        "route",
        "schema",
        "subject",
        "legal_basis",
        "pseudonymise",
        "minimise",
    ]
    steps = dict(pipeline.STEPS)
    assert all(step is steps[name] for name, step in batch.RESOLVE + batch.CHECK)


def test_each_message_gets_its_own_transaction_id_the_first_the_callers(world):
    caller_id = "01a24dc7-627d-7242-8524-6dfb77a36d96"
    world.cases.open(
        world.caller(ex.SCHOOL), lambda: consultation([ex.GGD, ex.WIJ, ex.SWV]), "k-1", caller_id
    )
    with world.db.session() as session:
        ids = session.scalars(select(Message.fsc_transaction_id).order_by(Message.seq)).all()
        bound = session.execute(
            select(TransactionRecipient.fsc_transaction_id, TransactionRecipient.recipient_org_id)
        ).all()
    assert ids[0] == caller_id and len(set(ids)) == 3
    assert {tid for tid, _ in bound} == set(ids)
    sends = world.events("exchange.send")
    assert [e.steps for e in sends] == [
        "token,scope,body,idempotency,recipient,transaction_id,route,schema,subject,"
        "legal_basis,pseudonymise,minimise,store"
    ] * 3


def test_a_transaction_id_passed_to_another_recipient_refuses_the_case(world):
    tid = "01a24dc7-627d-7242-8524-6dfb77a36d96"
    world.cases.open(world.caller(ex.SCHOOL), lambda: consultation([ex.GGD]), "k-1", tid)
    with pytest.raises(Refusal) as refused:
        world.cases.open(world.caller(ex.SCHOOL), lambda: consultation([ex.WIJ]), "k-2", tid)
    assert refused.value.code == "transaction_id_reused"
    assert refused.value.errors == {"invite.0": [refused.value.detail]}
    with world.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_the_payloads_own_errors_keep_their_names(world):
    body = consultation([ex.GGD, ex.WIJ])
    body["payload"]["question"] = "diagnosis"
    with pytest.raises(Refusal) as refused:
        world.open(body)
    assert refused.value.code == "validation_failed"
    assert list(refused.value.errors) == ["payload.question"]
