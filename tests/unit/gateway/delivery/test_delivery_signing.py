"""``Gateway-Signature``: a detached compact JWS (RFC 7515 appendix F) with the push keys,
bound to its purpose (``typ``), its recipient (``aud``) and its moment (``iat``)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.delivery.signing import PUSH_TYPE, DeliverySigner, _registry, verify
from gateway.keys import KeyStore
from gateway.oauth.metadata import public_jwks

BODY = json.dumps({"id": "x", "payload": {"naam": "Zoë"}}, ensure_ascii=False).encode()
A = "00000001005678901000"  # the recipient a push is made for
B = "00000001003456789000"  # another organisation with a delivery_url


@pytest.fixture
def keys(tmp_path):
    return KeyStore(tmp_path / "keys", allow_generate=True)


def published(keys) -> dict:
    """What ``/oauth/jwks`` serves: token, push and receipt keys together."""
    return public_jwks(keys)


def header_of(signature: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(signature.split(".")[0] + "=="))


def test_signature_is_detached_and_names_key_purpose_recipient_and_time(keys):
    before = int(time.time())
    signature = DeliverySigner(keys).sign(BODY, A)
    header_segment, payload_segment, signature_segment = signature.split(".")
    assert payload_segment == "" and signature_segment
    header = header_of(signature)
    assert before <= header.pop("iat") <= time.time()
    assert header == {
        "alg": "ES256",
        "kid": keys.push.current.kid,
        "typ": "gateway-push+jws",
        "aud": A,
        "crit": ["aud", "iat"],
    }
    assert header["kid"].startswith("push-") and header["kid"] != keys.current_signing_key.kid


def test_a_recipient_verifies_by_putting_the_body_back(keys):
    signature = DeliverySigner(keys).sign(BODY, A)
    header, _, sig = signature.split(".")
    payload = base64.urlsafe_b64encode(BODY).rstrip(b"=").decode()
    whole = f"{header}.{payload}.{sig}"  # RFC 7515 appendix F, done by hand
    result = jws.deserialize_compact(
        whole, KeySet.import_key_set(published(keys)), registry=_registry()
    )
    assert result.payload == BODY
    assert verify(signature, BODY, published(keys), recipient=A)["kid"] == keys.push.current.kid


def test_a_library_that_ignores_aud_and_iat_refuses_the_signature(keys):
    """``crit``: a verifier that does not know the ``aud``/``iat`` header parameters must not
    accept the push while skipping their checks."""
    signature = DeliverySigner(keys).sign(BODY, A)
    with pytest.raises(JoseError):
        jws.deserialize_compact(signature, KeySet.import_key_set(published(keys)), payload=BODY)


@pytest.mark.parametrize(
    "body", [BODY + b" ", BODY.replace(b"x", b"y"), b"", json.dumps(json.loads(BODY)).encode()]
)
def test_any_change_of_the_body_fails(keys, body):
    signature = DeliverySigner(keys).sign(BODY, A)
    with pytest.raises(JoseError):
        verify(signature, body, published(keys), recipient=A)


def test_a_push_for_a_does_not_verify_for_b(keys):
    signature = DeliverySigner(keys).sign(BODY, A)
    with pytest.raises(JoseError, match="another recipient"):
        verify(signature, BODY, published(keys), recipient=B)
    assert verify(DeliverySigner(keys).sign(BODY, B), BODY, published(keys), recipient=B)


def forged(key, **header) -> str:
    """A detached JWS over BODY by ``key`` with the push header (or ``header`` instead)."""
    fields = {"alg": "ES256", "kid": key.kid, "typ": PUSH_TYPE, "aud": A,
              "iat": int(time.time()), "crit": ["aud", "iat"]}
    fields.update(header)
    fields = {name: value for name, value in fields.items() if value is not None}
    return jws.detach_content(
        jws.serialize_compact(fields, BODY, key.jwk, registry=_registry())
    )


@pytest.mark.parametrize("purpose", ["tokens", "receipts"])
def test_a_token_or_receipt_key_does_not_verify_a_push(keys, purpose):
    """Before the split the token key signed pushes; a signature by a token (or receipt) key,
    with a perfect push header, is refused although that key is in the published JWKS."""
    key = getattr(keys, purpose).current
    assert key.kid in {k["kid"] for k in published(keys)["keys"]}
    with pytest.raises(JoseError, match="not a push key"):
        verify(forged(key), BODY, published(keys), recipient=A)
    renamed = forged(key, kid="push-" + key.kid)  # a push kid that is not in the JWKS
    with pytest.raises(JoseError):
        verify(renamed, BODY, published(keys), recipient=A)


def test_the_old_header_without_binding_is_refused(keys):
    """The pre-split form ``{"alg", "kid"}``, even by the current push key."""
    key = keys.push.current
    old = jws.detach_content(jws.serialize_compact({"alg": "ES256", "kid": key.kid}, BODY, key.jwk))
    with pytest.raises(JoseError):
        verify(old, BODY, published(keys), recipient=A)


@pytest.mark.parametrize(
    "header",
    [
        {"typ": "JWT"},
        {"typ": None},
        {"aud": None, "crit": ["iat"]},
        {"iat": None, "crit": ["aud"]},
        {"crit": None},
    ],
)
def test_a_push_key_signature_without_the_binding_is_refused(keys, header):
    with pytest.raises(JoseError):
        verify(forged(keys.push.current, **header), BODY, published(keys), recipient=A)


@pytest.mark.parametrize("offset, accepted", [(-290, True), (-400, False), (50, True), (90, False)])
def test_iat_must_be_recent(keys, offset, accepted):
    now = time.time()
    signature = DeliverySigner(keys, clock=lambda: now + offset).sign(BODY, A)
    if accepted:
        assert verify(signature, BODY, published(keys), recipient=A, now=now)
    else:
        with pytest.raises(JoseError, match="iat"):
            verify(signature, BODY, published(keys), recipient=A, now=now)


def test_an_attached_or_foreign_signature_is_refused(keys, tmp_path):
    signer = DeliverySigner(keys)
    key = keys.push.current
    attached = jws.serialize_compact(
        {"alg": "ES256", "kid": key.kid, "typ": PUSH_TYPE, "aud": A, "iat": int(time.time()),
         "crit": ["aud", "iat"]},
        BODY, key.jwk, registry=_registry(),
    )
    with pytest.raises(JoseError):
        verify(attached, BODY, published(keys), recipient=A)
    other = KeyStore(tmp_path / "other", allow_generate=True)
    with pytest.raises(JoseError):
        verify(DeliverySigner(other).sign(BODY, A), BODY, published(keys), recipient=A)
    assert verify(signer.sign(BODY, A), BODY, published(keys), recipient=A)


def test_a_rotated_push_key_signs_at_once_in_a_running_signer(keys):
    signer = DeliverySigner(keys)
    old = keys.push.current.kid
    token = keys.current_signing_key.kid
    rotated = KeyStore(keys.directory, allow_generate=False).push.add()  # another process
    signature = signer.sign(BODY, A)
    assert verify(signature, BODY, published(keys), recipient=A)["kid"] == rotated.kid != old
    assert keys.current_signing_key.kid == token  # the token key did not move
