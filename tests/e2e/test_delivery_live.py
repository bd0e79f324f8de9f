"""Push delivery end to end: a real gateway, real partners, ``gateway worker`` and a real
recipient that verifies ``Gateway-Signature`` with the gateway's ``/oauth/jwks``."""

from __future__ import annotations

import base64
import json
import shutil
import uuid

import pytest
import requests

from gateway.delivery import signing
from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server


@pytest.fixture(scope="module")
def push(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("push")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    recipient = dh.recipient(f"{server.url}/oauth/jwks")
    partners = dh.register_push_partners(server, instance, recipient.delivery_url)
    yield server, recipient, partners
    recipient.stop()
    stop_server(server.process)


def send(partners, transaction_id=None) -> str:
    headers = {"Fsc-Transaction-Id": transaction_id} if transaction_id else {}
    response = partners[ex.SCHOOL].send(
        "absence_report", ex.LEERPLICHT, dh.absence_body()["payload"], headers=headers
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def status(partners, message_id) -> dict:
    response = requests.get(
        f"{partners[ex.SCHOOL].base_url}/api/v1/exchanges/{message_id}",
        headers=partners[ex.SCHOOL].headers(), timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_pushed_body_is_the_inbox_item_signed_by_the_published_key(push):
    server, recipient, partners = push
    transaction_id = str(uuid.uuid4())
    message_id = send(partners, transaction_id)
    assert status(partners, message_id)["status"] == "accepted"
    server.cli("worker", "--once")
    assert message_id in recipient.stats()["ids"]
    raw = recipient.last_request(message_id)
    body = base64.b64decode(raw["body"])
    headers = {k.lower(): v for k, v in raw["headers"].items()}
    assert headers["fsc-transaction-id"] == transaction_id
    assert headers["content-type"] == "application/json"
    jwks = requests.get(f"{server.url}/oauth/jwks", timeout=10).json()
    assert signing.verify(headers["gateway-signature"], body, jwks)["alg"] == "ES256"
    pulled = [i for i in partners[ex.LEERPLICHT].inbox(limit=500)["items"] if i["id"] == message_id]
    assert pulled == [json.loads(body)]  # one shape, push or pull
    assert json.loads(body)["fsc_transaction_id"] == transaction_id
    seen = status(partners, message_id)
    assert seen["status"] == "delivered" and seen["delivered_at"]
    [event] = [e for e in dh.audit_events(server, "exchange.deliver")
               if e["exchange_id"] == message_id]
    assert event["actor"] == {"org": ex.OPERATOR, "client_id": None, "user": None}
    assert (event["sender"], event["recipient"]) == (ex.SCHOOL, ex.LEERPLICHT)
    assert event["fsc_transaction_id"] == transaction_id and event["decision"] == "allowed"
    assert ex.BSN not in json.dumps(event)
    metrics = requests.get(f"{server.url}/metrics", timeout=10).text
    assert 'gateway_deliveries_total{result="delivered"}' in metrics


def test_a_changed_body_fails_verification_at_the_recipient(push):
    server, recipient, partners = push
    message_id = send(partners)
    server.cli("worker", "--once")
    raw = recipient.last_request(message_id)
    body = base64.b64decode(raw["body"])
    signature = raw["headers"]["Gateway-Signature"]
    jwks = requests.get(f"{server.url}/oauth/jwks", timeout=10).json()
    changed = body.replace(b'"vo"', b'"po"')
    assert changed != body
    with pytest.raises(Exception, match="bad_signature"):
        signing.verify(signature, changed, jwks)
    before = recipient.stats()["bad_signatures"]
    answer = requests.post(
        recipient.delivery_url, data=changed, timeout=10,
        headers={"Content-Type": "application/json", "Gateway-Signature": signature},
    )
    assert answer.status_code == 401
    assert recipient.stats()["bad_signatures"] == before + 1


def test_pull_works_without_a_worker_and_the_worker_then_skips_it(push):
    server, recipient, partners = push
    message_id = send(partners)
    pulled = [i["id"] for i in partners[ex.LEERPLICHT].inbox(limit=500)["items"]]
    assert message_id in pulled
    assert status(partners, message_id)["status"] == "delivered"
    server.cli("worker", "--once")
    assert message_id not in recipient.stats()["ids"]
    acked = requests.post(
        f"{server.url}/api/v1/inbox/{message_id}/ack",
        headers=partners[ex.LEERPLICHT].headers(), timeout=10,
    )
    assert acked.status_code == 200


def test_a_rotated_signing_key_is_used_and_verifiable_at_once(push):
    server, recipient, partners = push
    rotated = server.cli("keys", "rotate").stdout.split()[3]
    message_id = send(partners)
    server.cli("worker", "--once")
    assert message_id in recipient.stats()["ids"]
    signature = recipient.last_request(message_id)["headers"]["Gateway-Signature"]
    header = json.loads(base64.urlsafe_b64decode(signature.split(".")[0] + "=="))
    assert header["kid"] == rotated
