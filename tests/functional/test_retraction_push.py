"""Retraction and push delivery (issue 19): a retracted message never leaves the outbox; the
retraction notice is pushed like any inbox item, signed, with no subject.

The worker runs against the reference recipient on 127.0.0.1, as in the worker's own tests;
the retraction goes through :class:`gateway.exchange.retractions.RetractionService`.
"""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from gateway.clock import system_clock
from gateway.delivery import signing
from gateway.delivery.outbox import Outbox
from gateway.delivery.push import Pusher
from gateway.delivery.recipient import serve
from gateway.delivery.signing import DeliverySigner
from gateway.delivery.worker import DeliveryPolicy, DeliveryWorker
from gateway.exchange.retractions import RetractionService
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


@pytest.fixture
def setup(database_url, keys, recipient):
    seeded = dh.seed(database_url, keys, recipient.delivery_url)
    policy = DeliveryPolicy(backoff_seconds=5, timeout_seconds=2)
    worker = DeliveryWorker(Outbox(seeded.db, seeded.audit), seeded.sealer, DeliverySigner(keys),
                            Pusher(policy.timeout_seconds), policy)
    retractions = RetractionService(seeded.db, seeded.sealer, seeded.audit, system_clock)
    yield seeded, worker, retractions
    worker.pusher.close()
    seeded.db.dispose()


def school(seeded):
    org = seeded.orgs[ex.SCHOOL]
    return SimpleNamespace(org_id=org.id, org_oin=org.oin, client_id="sis")


def pushed(recipient, item_id) -> dict:
    return json.loads(base64.b64decode(recipient.last_request(item_id)["body"]))


def test_a_message_retracted_before_its_push_is_never_pushed_only_its_notice(
        setup, recipient, keys):
    seeded, worker, retractions = setup
    message_id = dh.store(seeded)
    retractions.retract(school(seeded), message_id, {"reason": "wrong_child"})
    assert worker.run_once() == 1  # the notice, not the message
    assert worker.run_once() == 0
    [notice_id] = recipient.stats()["ids"]
    assert notice_id != message_id
    notice = pushed(recipient, notice_id)
    assert notice["message_type"] == "retraction" and notice["subject"] is None
    assert notice["payload"]["exchange_id"] == message_id
    assert notice["payload"]["payload_erased"] is True
    assert ex.BSN not in json.dumps(notice) and "vertrouwelijk" not in json.dumps(notice)
    raw = recipient.last_request(notice_id)
    headers = {k.lower(): v for k, v in raw["headers"].items()}
    signing.verify(headers["gateway-signature"], base64.b64decode(raw["body"]),
                   public_jwks(keys), recipient=ex.LEERPLICHT)


def test_a_message_pushed_before_its_retraction_is_followed_by_the_notice(setup, recipient):
    seeded, worker, retractions = setup
    message_id = dh.store(seeded)
    assert worker.run_once() == 1
    retractions.retract(school(seeded), message_id, {"reason": "incorrect_content"})
    assert worker.run_once() == 1
    first, notice_id = recipient.stats()["ids"]
    assert first == message_id
    notice = pushed(recipient, notice_id)
    assert notice["payload"]["exchange_id"] == message_id
    assert notice["payload"]["payload_erased"] is True  # delivered, never acknowledged
