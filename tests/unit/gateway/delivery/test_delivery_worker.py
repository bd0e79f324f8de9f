"""The worker against a real HTTP recipient on 127.0.0.1 (the reference recipient, in a thread).

Each test stores messages as the exchange service does, runs the worker code directly and
checks what arrived over HTTP, the rows, the audit events and the metrics.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta

import pytest
from joserfc.errors import BadSignatureError
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from gateway.clock import aware, system_clock
from gateway.delivery import signing
from gateway.delivery.outbox import Outbox
from gateway.delivery.push import Pusher
from gateway.delivery.recipient import serve
from gateway.delivery.signing import DeliverySigner
from gateway.delivery.worker import DeliveryPolicy, DeliveryWorker
from gateway.exchange.models import Message
from gateway.keys import KeyStore
from gateway.oauth.metadata import public_jwks
from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import free_port


@pytest.fixture
def keys(keys_dir):
    return KeyStore(keys_dir, allow_generate=False)


@pytest.fixture
def recipient():
    port = free_port()
    server = serve(port, None)
    yield dh.RecipientProcess(port, None)
    server.shutdown()
    server.server_close()


def make_worker(database_url, keys, url, **policy):
    seeded = dh.seed(database_url, keys, url)
    policy = DeliveryPolicy(**{"backoff_seconds": 5, "timeout_seconds": 2, **policy})
    worker = DeliveryWorker(
        Outbox(seeded.db, seeded.audit), seeded.sealer, DeliverySigner(keys),
        Pusher(policy.timeout_seconds), policy,
    )
    return seeded, worker


@pytest.fixture
def setup(database_url, keys, recipient):
    seeded, worker = make_worker(database_url, keys, recipient.delivery_url)
    yield seeded, worker
    worker.pusher.close()
    seeded.db.dispose()


def stored(seeded, message_id) -> Message:
    with seeded.db.session() as session:
        return session.scalars(select(Message).where(Message.id == message_id)).one()


def counted(result: str) -> float:
    return REGISTRY.get_sample_value("gateway_deliveries_total", {"result": result}) or 0.0


def jwks(keys) -> dict:
    return public_jwks(keys)


def test_push_sends_the_signed_inbox_item(setup, recipient, keys):
    seeded, worker = setup
    message_id = dh.store(seeded)
    before = counted("delivered")
    assert worker.run_once() == 1
    assert recipient.stats()["ids"] == [message_id]
    raw = recipient.last_request(message_id)
    body = base64.b64decode(raw["body"])
    item = json.loads(body)
    message = stored(seeded, message_id)
    assert item == {
        "id": message_id,
        "message_type": "absence_report",
        "sender": {"oin": ex.SCHOOL, "name": "OBS De Regenboog", "type": "school"},
        "subject": {"bsn": ex.BSN},
        "payload": dh.PAYLOAD,
        "purpose": "leerplicht_enforcement",
        "legal_basis": {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"},
        "created_at": item["created_at"],
        "fsc_transaction_id": message.fsc_transaction_id,
    }
    assert item["created_at"].endswith("Z")
    headers = {k.lower(): v for k, v in raw["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert headers["fsc-transaction-id"] == message.fsc_transaction_id
    header = signing.verify(headers["gateway-signature"], body, jwks(keys), recipient=ex.LEERPLICHT)
    assert {k: v for k, v in header.items() if k != "iat"} == {
        "alg": "ES256", "kid": keys.push.current.kid, "typ": "gateway-push+jws",
        "aud": ex.LEERPLICHT, "crit": ["aud", "iat"],
    }
    with pytest.raises(BadSignatureError):
        signing.verify(
            headers["gateway-signature"], body.replace(b"21a", b"21b"), jwks(keys),
            recipient=ex.LEERPLICHT,
        )
    assert message.status == "delivered" and message.attempts == 1
    assert counted("delivered") == before + 1


def test_500_is_retried_later_with_backoff(setup, recipient):
    seeded, worker = setup
    message_id = dh.store(seeded)
    recipient.control(status=500)
    started = system_clock()
    worker.run_once()
    message = stored(seeded, message_id)
    assert message.status == "accepted" and message.attempts == 1
    assert message.last_error == "http 500"
    wait = (aware(message.next_attempt_at) - started).total_seconds()
    assert 5 * 0.8 - 0.5 <= wait <= 5 * 1.2 + 0.5
    assert worker.run_once() == 0  # not due yet
    recipient.control(status=200)
    worker.clock = lambda: system_clock() + timedelta(seconds=7)
    assert worker.run_once() == 1
    assert stored(seeded, message_id).status == "delivered"
    assert [a["status"] for a in recipient.stats()["attempts"]] == [500, 200]


@pytest.mark.parametrize("status", [302, 404, 503])
def test_other_answers_than_2xx_fail_and_redirects_are_not_followed(setup, recipient, status):
    seeded, worker = setup
    message_id = dh.store(seeded)
    recipient.control(status=status)
    worker.run_once()
    assert stored(seeded, message_id).last_error == f"http {status}"
    assert len(recipient.stats()["attempts"]) == 1


def test_a_timeout_is_a_failure(database_url, keys, recipient):
    seeded, worker = make_worker(database_url, keys, recipient.delivery_url, timeout_seconds=1)
    slow = dh.store(seeded)
    recipient.control(delay=2.5)
    worker.run_once()
    assert stored(seeded, slow).last_error.startswith("timeout")
    seeded.db.dispose()


def test_refused_connection_is_a_failure_without_payload_in_the_error(database_url, keys):
    seeded, worker = make_worker(database_url, keys, f"http://127.0.0.1:{free_port()}/in")
    message_id = dh.store(seeded)
    worker.run_once()
    message = stored(seeded, message_id)
    assert message.last_error == "ConnectionError"
    assert "geheim" not in message.last_error
    seeded.db.dispose()


def test_last_attempt_dead_letters_and_counts(database_url, keys):
    seeded, worker = make_worker(
        database_url, keys, f"http://127.0.0.1:{free_port()}/in", max_attempts=3,
        backoff_seconds=0,
    )
    message_id = dh.store(seeded)
    before = counted("failed"), counted("dead_lettered")
    worker.run(once=True)
    message = stored(seeded, message_id)
    assert message.status == "dead_lettered" and message.attempts == 3
    assert (counted("failed"), counted("dead_lettered")) == (before[0] + 2, before[1] + 1)
    seeded.db.dispose()


def test_production_refuses_plain_http(database_url, keys, recipient):
    seeded, worker = make_worker(database_url, keys, recipient.delivery_url, production=True)
    message_id = dh.store(seeded)
    worker.run_once()
    assert stored(seeded, message_id).last_error == "delivery_url refused"
    assert recipient.stats()["attempts"] == []
    seeded.db.dispose()


def test_rows_not_started_when_stopping_are_released(setup, recipient):
    seeded, worker = setup
    ids = [dh.store(seeded) for _ in range(3)]
    worker.stop()
    assert worker.run_once() == 3
    assert recipient.stats()["attempts"] == []
    for message_id in ids:
        message = stored(seeded, message_id)
        assert message.lease_token is None and message.attempts == 0
        assert message.status == "accepted"


def test_run_once_drains_a_backlog_concurrently(setup, recipient):
    seeded, worker = setup
    ids = [dh.store(seeded) for _ in range(20)]
    worker.run(batch=6, once=True)
    stats = recipient.stats()
    assert sorted(stats["ids"]) == sorted(ids) and stats["duplicates"] == 0
    assert {stored(seeded, i).status for i in ids} == {"delivered"}
    assert worker.outbox.pending() == 0
    assert REGISTRY.get_sample_value("gateway_outbox_pending") == 0


class FlakyOutbox:
    """The real outbox, except that its database is away for the first ``outages`` claims."""

    def __init__(self, outbox, outages: int) -> None:
        self.outbox, self.outages = outbox, outages

    def claim(self, *args):
        if self.outages:
            self.outages -= 1
            raise OperationalError("SELECT", {}, ConnectionError("database went away"))
        return self.outbox.claim(*args)

    def __getattr__(self, name):
        return getattr(self.outbox, name)


def test_the_loop_survives_the_database_going_away(setup, recipient):
    seeded, worker = setup
    message_id = dh.store(seeded)
    worker.outbox = FlakyOutbox(worker.outbox, outages=2)
    runner = threading.Thread(target=worker.run, kwargs={"poll": 0.05})
    runner.start()
    try:
        dh.wait_until(lambda: recipient.stats()["ids"] == [message_id], 10, what="a delivery")
    finally:
        worker.stop()
        runner.join(10)
    assert worker.outbox.outages == 0 and not runner.is_alive()
    assert stored(seeded, message_id).status == "delivered"
