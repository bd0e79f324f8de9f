"""The binding of a transaction id to one recipient, in the storing transaction (no HTTP).

The live race test (tests/security/test_correlation_ids.py) shows the outcome over two
gunicorn workers, but which code path decided it depends on timing. These tests force each
path: a concurrent send that bound the id between this send's pipeline check and its store
(the insert collides: 409, nothing stored, the refusal audited), the same for the same
recipient (stored), and the pipeline's early check.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from gateway.audit.models import AuditEventRow
from gateway.exchange import correlation, lookups
from gateway.exchange.errors import Refusal
from gateway.exchange.models import Message, TransactionRecipient
from tests import exchange_helpers as ex


def bind_concurrently(monkeypatch, db, sender_id, transaction_id, recipient_id):
    """Another process bound the id, but this send's look (the pipeline's check) came just
    before it committed: it sees nothing, and only the insert of the storing transaction
    finds the binding."""
    with db.write_session() as other:
        other.execute(insert(TransactionRecipient), {
            "sender_org_id": sender_id, "fsc_transaction_id": transaction_id,
            "recipient_org_id": recipient_id, "created_at": datetime.now(UTC)})
    real_fetch, real_look = lookups.fetch, correlation.bound_recipient
    looks = []

    def too_early(*args):  # the pipeline's read of the binding (step 4, gateway.exchange.lookups)
        looks.append("pipeline")
        return dataclasses.replace(real_fetch(*args), bound_recipient_id=None)

    def look(session, sender, transaction):  # any later look (after the store's conflict)
        looks.append("after")
        return real_look(session, sender, transaction)

    monkeypatch.setattr(lookups, "fetch", too_early)
    monkeypatch.setattr(correlation, "bound_recipient", look)
    return looks


def count(db, model, *where):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_concurrent_binding_to_another_recipient_ends_in_409(world, body, monkeypatch):
    db, service, orgs, school = world
    transaction_id = str(uuid.uuid4())
    looks = bind_concurrently(monkeypatch, db, school.org_id, transaction_id,
                              orgs[ex.LEERPLICHT].id)
    with pytest.raises(Refusal) as refused:
        service.send(school, body(ex.SWV), "k-1", transaction_id)
    assert (refused.value.status, refused.value.code) == (409, "transaction_id_reused")
    assert looks == ["pipeline", "after"]  # the check (too early), the look after the conflict
    assert count(db, Message) == 0
    with db.session() as session:
        [event] = session.scalars(select(AuditEventRow.canonical)).all()
    assert json.loads(event)["reason"] == "transaction_id_reused"
    assert json.loads(event)["decision"] == "denied"


def test_a_concurrent_binding_to_the_same_recipient_is_stored(world, body, monkeypatch):
    db, service, orgs, school = world
    transaction_id = str(uuid.uuid4())
    looks = bind_concurrently(monkeypatch, db, school.org_id, transaction_id, orgs[ex.SWV].id)
    answer = service.send(school, body(ex.SWV), "k-1", transaction_id)
    assert answer["status"] == "accepted"
    assert count(db, Message, Message.fsc_transaction_id == transaction_id) == 1
    assert count(db, TransactionRecipient, TransactionRecipient.fsc_transaction_id == transaction_id) == 1
    # the check, the look after the conflict; the second store binds no more (bound already)
    assert looks == ["pipeline", "after"]


def test_the_pipeline_refuses_before_the_route_is_checked(world, body):
    db, service, orgs, school = world
    transaction_id = str(uuid.uuid4())
    assert service.send(school, body(ex.LEERPLICHT), "k-1", transaction_id)["status"] == "accepted"
    with pytest.raises(Refusal) as refused:  # a route the school may not use, same id
        service.send(school, body(ex.WIJ), "k-2", transaction_id)
    assert refused.value.code == "transaction_id_reused"
    with db.session() as session:
        rows = session.execute(select(AuditEventRow.canonical, AuditEventRow.steps)).all()
    [steps] = [steps for canonical, steps in rows
               if json.loads(canonical)["reason"] == "transaction_id_reused"]
    assert steps.split(",")[-2:] == ["envelope", "recipient"]
