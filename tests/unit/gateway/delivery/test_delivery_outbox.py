"""The outbox on SQLite and PostgreSQL: claiming, leases, settling, audit events."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.audit.models import AuditEventRow
from gateway.clock import system_clock
from gateway.delivery.outbox import Outbox, Outcome
from gateway.exchange.models import Message
from gateway.keys import KeyStore
from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.conftest import empty_tables

LEASE = timedelta(seconds=30)
URL = "http://127.0.0.1:9/inbox"


@pytest.fixture
def keys(keys_dir):
    return KeyStore(keys_dir, allow_generate=False)


@pytest.fixture
def seeded(database_url, keys):
    seeded = dh.seed(database_url, keys, URL)
    yield seeded
    seeded.db.dispose()


@pytest.fixture
def outbox(seeded):
    return Outbox(seeded.db, seeded.audit)


def row(seeded, message_id) -> Message:
    with seeded.db.session() as session:
        return session.scalars(select(Message).where(Message.id == message_id)).one()


def events(seeded, action) -> list[dict]:
    with seeded.db.session() as session:
        rows = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == action).order_by(AuditEventRow.seq)
        )
        return [json.loads(r.canonical) | {"subject_ref": r.subject_ref} for r in rows]


def test_claims_due_messages_of_push_recipients_only(seeded, outbox):
    pushed = [dh.store(seeded) for _ in range(3)]
    dh.store(seeded, recipient=ex.SWV)  # no delivery_url: pull only
    claims = outbox.claim(10, system_clock(), LEASE)
    assert [c.id for c in claims] == pushed
    first = claims[0]
    assert first.delivery_url == URL and first.recipient_oin == ex.LEERPLICHT
    assert first.sender == {"oin": ex.SCHOOL, "name": "OBS De Regenboog", "type": "school"}
    assert first.attempts == 0 and len(first.lease_token) == 32
    stored = row(seeded, first.id)
    assert stored.lease_token == first.lease_token and stored.status == "accepted"


def test_a_leased_row_is_not_claimed_again_until_the_lease_ends(seeded, outbox):
    message_id = dh.store(seeded)
    now = system_clock()
    first = outbox.claim(10, now, LEASE)
    assert outbox.claim(10, now + timedelta(seconds=29), LEASE) == []
    again = outbox.claim(10, now + timedelta(seconds=31), LEASE)
    assert [c.id for c in again] == [message_id]
    assert again[0].lease_token != first[0].lease_token


def test_limit_and_order(seeded, outbox):
    ids = [dh.store(seeded) for _ in range(5)]
    now = system_clock()
    assert [c.id for c in outbox.claim(2, now, LEASE)] == ids[:2]
    assert [c.id for c in outbox.claim(2, now, LEASE)] == ids[2:4]
    assert [c.id for c in outbox.claim(2, now, LEASE)] == ids[4:]


def test_suspended_recipient_waits(database_url, keys):
    seeded = dh.seed(database_url, keys, URL, status="suspended")
    dh.store(seeded)
    assert Outbox(seeded.db, seeded.audit).claim(10, system_clock(), LEASE) == []
    assert Outbox(seeded.db, seeded.audit).pending() == 1
    seeded.db.dispose()


def test_concurrent_claims_are_disjoint(seeded, outbox):
    ids = {dh.store(seeded) for _ in range(40)}
    got: list[list[str]] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        mine = []
        while batch := outbox.claim(3, system_clock(), LEASE):
            mine += [c.id for c in batch]
        got.append(mine)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for mine in got for i in mine]
    assert sorted(everything) == sorted(ids)  # each exactly once


@pytest.fixture
def postgres_seeded(_migrated_urls, keys):
    """The PostgreSQL database only: SKIP LOCKED is its path (SQLite claims in one UPDATE)."""
    if "postgresql" not in _migrated_urls:
        pytest.skip("needs GATEWAY_TEST_POSTGRES_URL")
    url = _migrated_urls["postgresql"]
    empty_tables(url)
    seeded = dh.seed(url, keys, URL)
    yield seeded
    seeded.db.dispose()


def test_postgres_skips_rows_locked_by_another_worker(postgres_seeded):
    seeded = postgres_seeded
    outbox = Outbox(seeded.db, seeded.audit)
    ids = [dh.store(seeded) for _ in range(5)]
    with seeded.db.session() as holder:
        locked = holder.scalars(
            select(Message.seq).where(Message.id.in_(ids[:2])).with_for_update()
        ).all()
        assert len(locked) == 2
        result: list = []
        worker = threading.Thread(
            target=lambda: result.append(outbox.claim(10, system_clock(), LEASE))
        )
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "claim waited on a locked row instead of skipping it"
    assert [c.id for c in result[0]] == ids[2:]


def test_delivered_sets_status_and_audits_as_operator(seeded, outbox):
    message_id = dh.store(seeded)
    claim = outbox.claim(1, system_clock(), LEASE)[0]
    now = system_clock()
    assert outbox.delivered(claim, now) is True
    stored = row(seeded, message_id)
    assert stored.status == "delivered" and stored.delivered_at is not None
    assert stored.attempts == 1 and stored.lease_token is None and stored.next_attempt_at is None
    sent = events(seeded, "exchange.send")[0]
    [event] = events(seeded, "exchange.deliver")
    assert event["actor"] == {"org": ex.OPERATOR, "client_id": None, "user": None}
    assert event["decision"] == "allowed" and event["reason"] is None
    assert event["exchange_id"] == message_id
    assert (event["sender"], event["recipient"]) == (ex.SCHOOL, ex.LEERPLICHT)
    for field in ("message_type", "purpose", "legal_basis", "consent_id", "subject_ref",
                  "fsc_transaction_id"):
        assert event[field] == sent[field], field


def test_failure_schedules_a_retry_without_audit(seeded, outbox):
    message_id = dh.store(seeded)
    claim = outbox.claim(1, system_clock(), LEASE)[0]
    now = system_clock()
    assert outbox.failed(claim, now, "http 500", now + timedelta(seconds=5)) is True
    stored = row(seeded, message_id)
    assert stored.status == "accepted" and stored.attempts == 1
    assert stored.last_error == "http 500" and stored.lease_token is None
    assert outbox.claim(1, now + timedelta(seconds=4), LEASE) == []
    [again] = outbox.claim(1, now + timedelta(seconds=6), LEASE)
    assert again.attempts == 1
    assert events(seeded, "exchange.dead_letter") == []


def test_last_failure_dead_letters_with_an_audit_event(seeded, outbox):
    message_id = dh.store(seeded)
    claim = outbox.claim(1, system_clock(), LEASE)[0]
    assert outbox.failed(claim, system_clock(), "ConnectionError", None) is True
    stored = row(seeded, message_id)
    assert stored.status == "dead_lettered" and stored.dead_lettered_at is not None
    assert stored.last_error == "ConnectionError" and stored.ciphertext is not None
    [event] = events(seeded, "exchange.dead_letter")
    assert event["decision"] == "denied" and event["reason"] == "delivery_failed"
    assert event["actor"] == {"org": ex.OPERATOR, "client_id": None, "user": None}
    assert outbox.claim(1, system_clock(), LEASE) == []
    assert outbox.pending() == 0


def test_a_lost_lease_cannot_overwrite_a_newer_attempt(seeded, outbox):
    message_id = dh.store(seeded)
    now = system_clock()
    old = outbox.claim(1, now, LEASE)[0]
    new = outbox.claim(1, now + LEASE + timedelta(seconds=1), LEASE)[0]
    assert outbox.failed(old, now, "timeout", None) is False  # would have dead-lettered
    assert row(seeded, message_id).status == "accepted"
    assert outbox.delivered(new, now) is True
    assert outbox.failed(old, now, "timeout", now) is False
    assert row(seeded, message_id).status == "delivered"


def test_pulled_message_is_skipped_and_a_crossing_push_is_still_audited(seeded, outbox):
    pulled, crossing = dh.store(seeded), dh.store(seeded)
    with seeded.db.session() as session:  # as GET /api/v1/inbox does
        message = session.scalars(select(Message).where(Message.id == pulled)).one()
        message.status = "delivered"
    [claim] = outbox.claim(10, system_clock(), LEASE)
    assert claim.id == crossing
    with seeded.db.session() as session:
        message = session.scalars(select(Message).where(Message.id == crossing)).one()
        message.status, message.delivered_at = "delivered", system_clock()
    assert outbox.delivered(claim, system_clock()) is False
    assert [e["exchange_id"] for e in events(seeded, "exchange.deliver")] == [crossing]


def test_release_makes_rows_due_at_once(seeded, outbox):
    message_id = dh.store(seeded)
    now = system_clock()
    claims = outbox.claim(1, now, LEASE)
    outbox.release(claims, now)
    stored = row(seeded, message_id)
    assert stored.lease_token is None and stored.attempts == 0
    assert [c.id for c in outbox.claim(1, now, LEASE)] == [message_id]


def test_pending_counts_undelivered_push_messages(seeded, outbox):
    for _ in range(3):
        dh.store(seeded)
    dh.store(seeded, recipient=ex.SWV)
    assert outbox.pending() == 3
    outbox.delivered(outbox.claim(1, system_clock(), LEASE)[0], system_clock())
    assert outbox.pending() == 2


def test_a_batch_settles_in_one_transaction_with_its_audit_events(seeded, outbox):
    ids = [dh.store(seeded) for _ in range(4)]
    now = system_clock()
    claims = outbox.claim(4, now, LEASE)
    changed = outbox.settle(
        [
            Outcome(claims[0], "delivered"),
            Outcome(claims[1], "failed", "http 502", now + timedelta(seconds=5)),
            Outcome(claims[2], "dead_lettered", "SSLError"),
            Outcome(claims[3], "released"),
        ],
        now,
    )
    assert changed == [True, True, True, True]
    assert [row(seeded, i).status for i in ids] == [
        "delivered", "accepted", "dead_lettered", "accepted"
    ]
    assert [row(seeded, i).attempts for i in ids] == [1, 1, 1, 0]
    assert [e["exchange_id"] for e in events(seeded, "exchange.deliver")] == [ids[0]]
    assert [e["exchange_id"] for e in events(seeded, "exchange.dead_letter")] == [ids[2]]
    assert [c.id for c in outbox.claim(4, now, LEASE)] == [ids[3]]
