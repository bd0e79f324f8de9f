"""The binding of a transaction id to one recipient, in the storing transaction (no HTTP).

The live race test (tests/security/test_correlation_ids.py) shows the outcome over two
gunicorn workers, but which code path decided it depends on timing. These tests force each
path: a concurrent send that bound the id between this send's pipeline check and its store
(the insert collides: 409, nothing stored, the refusal audited), the same for the same
recipient (stored), and the pipeline's early check.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from gateway.audit.log import AuditLog
from gateway.audit.models import AuditEventRow
from gateway.exchange import correlation
from gateway.exchange.errors import Refusal
from gateway.exchange.models import Message, TransactionRecipient
from gateway.exchange.service import ExchangeService
from gateway.keys import KeyStore
from gateway.registry.service import OrganisationRegistry
from gateway.sealing import MESSAGES, Sealer
from gateway.storage.database import Database
from pseudonymise import DomainPseudonymiser
from tests import exchange_helpers as ex

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Caller:
    client_id: str
    org_id: int
    org_oin: str
    org_type: str
    org_name: str
    scopes: frozenset = frozenset({"exchange:send"})


@pytest.fixture
def world(database_url, keys_dir):
    db = Database(database_url)
    registry = OrganisationRegistry(db, production=False)
    orgs = {oin: registry.add_organisation(oin, name, type_)
            for oin, name, type_ in ex.ORGANISATIONS}
    keyring = KeyStore(keys_dir, allow_generate=False).keyring
    service = ExchangeService(db, DomainPseudonymiser(keyring), None, Sealer(keyring, MESSAGES),
                              AuditLog(), lambda: NOW)
    school = orgs[ex.SCHOOL]
    yield db, service, orgs, Caller("sis", school.id, school.oin, "school", school.name)
    db.dispose()


def body(recipient):
    """What the view's body reader would give the service."""
    document = {"message_type": "absence_report", "recipient": recipient,
                "subject": {"bsn": ex.BSN}, "payload": ex.absence_report(NOW.date())}
    return lambda: document


def bind_concurrently(monkeypatch, db, sender_id, transaction_id, recipient_id):
    """Another process bound the id, but this send's look (the pipeline's check) came just
    before it committed: it sees nothing, and only the insert of the storing transaction
    finds the binding."""
    with db.write_session() as other:
        other.execute(insert(TransactionRecipient), {
            "sender_org_id": sender_id, "fsc_transaction_id": transaction_id,
            "recipient_org_id": recipient_id, "created_at": NOW})
    real = correlation.bound_recipient
    looks = []

    def too_early(session, sender, transaction):
        looks.append(transaction)
        return None if len(looks) <= 1 else real(session, sender, transaction)

    monkeypatch.setattr(correlation, "bound_recipient", too_early)
    return looks


def count(db, model, *where):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_concurrent_binding_to_another_recipient_ends_in_409(world, monkeypatch):
    db, service, orgs, school = world
    transaction_id = str(uuid.uuid4())
    looks = bind_concurrently(monkeypatch, db, school.org_id, transaction_id,
                              orgs[ex.LEERPLICHT].id)
    with pytest.raises(Refusal) as refused:
        service.send(school, body(ex.SWV), "k-1", transaction_id)
    assert (refused.value.status, refused.value.code) == (409, "transaction_id_reused")
    assert len(looks) == 2  # the check (too early), then the look after the conflict
    assert count(db, Message) == 0
    with db.session() as session:
        [event] = session.scalars(select(AuditEventRow.canonical)).all()
    assert json.loads(event)["reason"] == "transaction_id_reused"
    assert json.loads(event)["decision"] == "denied"


def test_a_concurrent_binding_to_the_same_recipient_is_stored(world, monkeypatch):
    db, service, orgs, school = world
    transaction_id = str(uuid.uuid4())
    looks = bind_concurrently(monkeypatch, db, school.org_id, transaction_id, orgs[ex.SWV].id)
    answer = service.send(school, body(ex.SWV), "k-1", transaction_id)
    assert answer["status"] == "accepted"
    assert count(db, Message, Message.fsc_transaction_id == transaction_id) == 1
    assert count(db, TransactionRecipient, TransactionRecipient.fsc_transaction_id == transaction_id) == 1
    # the check, the look after the conflict; the second store binds no more (bound already)
    assert len(looks) == 2


def test_the_pipeline_refuses_before_the_route_is_checked(world):
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
