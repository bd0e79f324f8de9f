"""Push delivery end to end: a real gateway, real partners, ``gateway worker`` and a real
recipient that verifies ``Gateway-Signature`` with the gateway's ``/oauth/jwks``."""

from __future__ import annotations

import base64
import json
import shutil
import time
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
    verified = signing.verify(headers["gateway-signature"], body, jwks, recipient=ex.LEERPLICHT)
    assert verified["alg"] == "ES256"
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
        signing.verify(signature, changed, jwks, recipient=ex.LEERPLICHT)
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


def test_a_rotated_push_key_is_used_and_verifiable_at_once(push):
    server, recipient, partners = push
    rotated = server.cli("keys", "rotate", "--purpose", "push").stdout.split()[3]
    assert rotated.startswith("push-")
    message_id = send(partners)
    server.cli("worker", "--once")
    assert message_id in recipient.stats()["ids"]
    signature = recipient.last_request(message_id)["headers"]["Gateway-Signature"]
    header = json.loads(base64.urlsafe_b64decode(signature.split(".")[0] + "=="))
    assert header["kid"] == rotated


def pushed(server, recipient, partners) -> tuple[bytes, str, dict]:
    """One message pushed by the worker: (body, Gateway-Signature, its protected header)."""
    message_id = send(partners)
    server.cli("worker", "--once")
    raw = recipient.last_request(message_id)
    signature = raw["headers"]["Gateway-Signature"]
    header = json.loads(base64.urlsafe_b64decode(signature.split(".")[0] + "=="))
    return base64.b64decode(raw["body"]), signature, header


def test_a_push_is_signed_by_a_push_key_not_the_token_key(push):
    """Issue 16: the push signature and access tokens had one key, so anything the token key
    signed verified as a push and vice versa. Seen from outside: the push's kid must be none
    of the kids access tokens are signed with, and a push kid verifies no token."""
    server, recipient, partners = push
    _, _, header = pushed(server, recipient, partners)
    token_kid = json.loads(
        base64.urlsafe_b64decode(partners[ex.SCHOOL].token().split(".")[0] + "==")
    )["kid"]
    assert header["kid"] != token_kid
    assert header["kid"].startswith("push-")
    published = {key["kid"]: key for key in requests.get(f"{server.url}/oauth/jwks").json()["keys"]}
    assert published[header["kid"]]["use"] == "sig"
    assert token_kid in published  # tokens still verify against the same JWKS


def test_a_push_names_its_recipient_purpose_and_moment(push):
    """Issue 16: the protected header carried only alg and kid, so a push captured by one
    recipient verified at any other, at any later time."""
    server, recipient, partners = push
    body, signature, header = pushed(server, recipient, partners)
    assert header["typ"] == "gateway-push+jws"
    assert header["aud"] == ex.LEERPLICHT
    assert set(header["crit"]) == {"aud", "iat"}
    assert abs(header["iat"] - time.time()) < 120
    jwks = requests.get(f"{server.url}/oauth/jwks", timeout=10).json()
    assert signing.verify(signature, body, jwks, recipient=ex.LEERPLICHT)["aud"] == ex.LEERPLICHT
    with pytest.raises(Exception, match="another recipient"):
        signing.verify(signature, body, jwks, recipient=ex.GGD)
    with pytest.raises(Exception, match="iat"):
        signing.verify(signature, body, jwks, recipient=ex.LEERPLICHT, now=time.time() + 600)


def test_a_push_for_another_organisation_is_refused_by_the_reference_recipient(push):
    """A recipient started as the GGD (``--oin``) refuses a push made for the leerplicht
    office, however well signed: 401 and counted as a bad signature."""
    server, recipient, partners = push
    body, signature, _ = pushed(server, recipient, partners)
    other = dh.recipient(f"{server.url}/oauth/jwks", oin=ex.GGD)
    try:
        answer = requests.post(
            other.delivery_url, data=body, timeout=10,
            headers={"Content-Type": "application/json", "Gateway-Signature": signature},
        )
        assert answer.status_code == 401
        assert other.stats()["bad_signatures"] == 1 and other.stats()["ids"] == []
    finally:
        other.stop()
