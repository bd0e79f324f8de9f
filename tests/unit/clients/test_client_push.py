"""The client library's ``verify_push`` against what the gateway's worker really signs: the
documented recipient checks (push key, typ, crit, body, aud, iat) hold for both sides."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jws
from thuiszitterspact_client import PushSignatureError, verify_push

from gateway.delivery.signing import DeliverySigner
from gateway.keys import KeyStore
from gateway.oauth.metadata import public_jwks

OURS = "00000001005678901000"
THEIRS = "00000001003456789000"
BODY = json.dumps({"id": "m-1", "payload": {"naam": "Zoë"}}, ensure_ascii=False).encode()


@pytest.fixture
def keys(tmp_path):
    return KeyStore(tmp_path / "keys", allow_generate=True)


def test_a_push_for_us_verifies(keys):
    signature = DeliverySigner(keys).sign(BODY, OURS)
    header = verify_push(signature, BODY, public_jwks(keys), OURS)
    assert header["aud"] == OURS and header["kid"] == keys.push.current.kid


@pytest.mark.parametrize(
    "case, message",
    [
        ("other recipient", "another recipient"),
        ("changed body", "does not verify"),
        ("old", "iat"),
        ("token key", "not a push key"),
        ("unknown key", "unknown push key"),
        ("attached", "detached"),
    ],
)
def test_what_a_recipient_must_refuse(keys, tmp_path, case, message):
    jwks = public_jwks(keys)
    signer = DeliverySigner(keys)
    signature, body, own = signer.sign(BODY, OURS), BODY, OURS
    if case == "other recipient":
        signature = signer.sign(BODY, THEIRS)
    elif case == "changed body":
        body = BODY.replace(b"m-1", b"m-2")
    elif case == "old":
        signature = DeliverySigner(keys, clock=lambda: time.time() - 600).sign(BODY, OURS)
    elif case == "token key":
        key = keys.current_signing_key
        header = {"alg": "ES256", "kid": key.kid}
        signature = jws.detach_content(jws.serialize_compact(header, BODY, key.jwk))
    elif case == "unknown key":
        signature = DeliverySigner(KeyStore(tmp_path / "other", allow_generate=True)).sign(
            BODY, OURS
        )
    elif case == "attached":
        head, _, sig = signature.split(".")
        signature = f"{head}.e30.{sig}"
    with pytest.raises(PushSignatureError, match=message):
        verify_push(signature, body, jwks, own)
