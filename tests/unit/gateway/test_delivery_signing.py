"""``Gateway-Signature``: a detached compact JWS (RFC 7515 appendix F) with the token keys."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.delivery.signing import DeliverySigner, verify
from gateway.keys import KeyStore

BODY = json.dumps({"id": "x", "payload": {"naam": "Zoë"}}, ensure_ascii=False).encode()


@pytest.fixture
def keys(tmp_path):
    return KeyStore(tmp_path / "keys", allow_generate=True)


def published(keys) -> dict:
    return {"keys": [key.public_jwk() for key in keys.signing_keys]}


def test_signature_is_detached_and_names_the_current_key(keys):
    signature = DeliverySigner(keys).sign(BODY)
    header_segment, payload_segment, signature_segment = signature.split(".")
    assert payload_segment == "" and signature_segment
    header = json.loads(base64.urlsafe_b64decode(header_segment + "=="))
    assert header == {"alg": "ES256", "kid": keys.current_signing_key.kid}


def test_a_recipient_verifies_by_putting_the_body_back(keys):
    signature = DeliverySigner(keys).sign(BODY)
    header, _, sig = signature.split(".")
    payload = base64.urlsafe_b64encode(BODY).rstrip(b"=").decode()
    whole = f"{header}.{payload}.{sig}"  # RFC 7515 appendix F, done by hand
    result = jws.deserialize_compact(whole, KeySet.import_key_set(published(keys)))
    assert result.payload == BODY
    assert verify(signature, BODY, published(keys))["kid"] == keys.current_signing_key.kid


@pytest.mark.parametrize(
    "body", [BODY + b" ", BODY.replace(b"x", b"y"), b"", json.dumps(json.loads(BODY)).encode()]
)
def test_any_change_of_the_body_fails(keys, body):
    signature = DeliverySigner(keys).sign(BODY)
    with pytest.raises(JoseError):
        verify(signature, body, published(keys))


def test_an_attached_or_foreign_signature_is_refused(keys, tmp_path):
    signer = DeliverySigner(keys)
    key = keys.current_signing_key
    attached = jws.serialize_compact({"alg": "ES256", "kid": key.kid}, BODY, key.jwk)
    with pytest.raises(JoseError):
        verify(attached, BODY, published(keys))
    other = KeyStore(tmp_path / "other", allow_generate=True)
    with pytest.raises(JoseError):
        verify(DeliverySigner(other).sign(BODY), BODY, published(keys))
    assert verify(signer.sign(BODY), BODY, published(keys))


def test_a_rotated_key_signs_at_once_in_a_running_signer(keys):
    signer = DeliverySigner(keys)
    old = keys.current_signing_key.kid
    rotated = KeyStore(keys.directory, allow_generate=False).add_signing_key()  # another process
    signature = signer.sign(BODY)
    assert verify(signature, BODY, published(keys))["kid"] == rotated.kid != old
