"""The ``Gateway-Signature`` header: a JWS with detached payload (RFC 7515 appendix F).

The gateway signs the exact bytes of the pushed body with its current *push* key (folder
``push/`` of ``GATEWAY_KEYS_DIR``, ``kid`` prefix ``push-``), never with the key that signs
access tokens or consent receipts: a signature of one purpose cannot be passed off as another.
The compact serialisation without its payload segment (``header..signature``) goes in the
header; a recipient puts the received body back in the middle (or passes it as the detached
payload to its JOSE library) and verifies with the published key of that ``kid``.

The protected header binds the signature to its purpose, its recipient and its moment::

    {"alg": "ES256", "kid": "push-...", "typ": "gateway-push+jws",
     "aud": "<recipient OIN>", "iat": <seconds since the epoch>, "crit": ["aud", "iat"]}

``crit`` makes a JOSE library that does not know ``aud``/``iat`` as header parameters refuse
the signature instead of ignoring them, so a recipient cannot skip those checks by accident.
A recipient accepts a push only when the ``kid`` is a ``push-`` key from ``/oauth/jwks``,
``typ`` is ``gateway-push+jws``, ``aud`` is its own OIN and ``iat`` lies within a few minutes
of its clock (:func:`verify` does all of that). A push made for one recipient therefore does
not verify at another, and a captured push cannot be replayed later. Every delivery attempt
is signed anew, so a retry carries a fresh ``iat``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.registry import HeaderParameter

from ..keys import PUSH, KeyStore

PUSH_TYPE = "gateway-push+jws"
PUSH_KID_PREFIX = f"{PUSH}-"
PUSH_ALGORITHM = "ES256"
CRITICAL = ("aud", "iat")
MAX_AGE_SECONDS = 300
"""How old a push's ``iat`` may be at the recipient: a delivery attempt is signed just before
it is sent and gives up after its connect and read timeouts (seconds each)."""
CLOCK_SKEW_SECONDS = 60
"""How far in the recipient's future an ``iat`` may lie (clocks differ)."""


def _registry() -> jws.JWSRegistry:
    """ES256 only, with ``aud`` and ``iat`` known (and required) as header parameters."""
    return jws.JWSRegistry(
        header_registry={
            "aud": HeaderParameter("Recipient OIN", "str", required=True),
            "iat": HeaderParameter("Issued at", "int", required=True),
        },
        algorithms=[PUSH_ALGORITHM],
    )


class PushSignatureError(JoseError):
    """A ``Gateway-Signature`` that is well signed but not for this use (wrong key purpose,
    type, recipient or time), or not a detached compact JWS at all."""

    error = "invalid_push_signature"


class DeliverySigner:
    """Signs pushed bodies for one recipient with the key store's current push key."""

    def __init__(self, keys: KeyStore, clock=time.time) -> None:
        self.keys = keys
        self.clock = clock

    def sign(self, body: bytes, recipient: str) -> str:
        """``header..signature`` over ``body`` for ``recipient`` (its OIN); a rotated push key
        is picked up without restart."""
        folder = self.keys.push
        folder.refresh()
        key = folder.current
        header = {
            "alg": key.alg,
            "kid": key.kid,
            "typ": PUSH_TYPE,
            "aud": recipient,
            "iat": int(self.clock()),
            "crit": list(CRITICAL),
        }
        compact = jws.serialize_compact(header, body, key.jwk, registry=_registry())
        return jws.detach_content(compact)


def unverified_header(signature: str) -> dict:
    """The protected header of a detached compact JWS, not yet checked."""
    if not isinstance(signature, str) or signature.count(".") != 2:
        raise PushSignatureError("not a compact JWS with detached payload")
    segment, payload, _ = signature.split(".")
    if payload != "":
        raise PushSignatureError("not a compact JWS with detached payload")
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise PushSignatureError("unreadable protected header") from None
    if not isinstance(header, dict):
        raise PushSignatureError("unreadable protected header")
    return header


def verify(
    signature: str,
    body: bytes,
    jwks: dict,
    *,
    recipient: str,
    now: float | None = None,
    max_age: float = MAX_AGE_SECONDS,
) -> dict:
    """Check ``signature`` over ``body`` as ``recipient`` (its OIN), with a JWKS as
    ``/oauth/jwks`` serves it. Returns the protected header.

    Raises :class:`joserfc.errors.JoseError` when the signature does not verify, names an
    unknown key or a key of another purpose (a token or receipt key), has another ``typ``, was
    made for another recipient, or its ``iat`` is older than ``max_age`` seconds or more than
    a minute ahead.
    """
    header = unverified_header(signature)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid.startswith(PUSH_KID_PREFIX):
        raise PushSignatureError("the kid is not a push key")
    if header.get("typ") != PUSH_TYPE:
        raise PushSignatureError(f"typ is not {PUSH_TYPE}")
    if header.get("crit") != list(CRITICAL):
        raise PushSignatureError(f"crit is not {list(CRITICAL)}")
    published = (jwks or {}).get("keys", [])
    candidates = [key for key in published if isinstance(key, dict) and key.get("kid") == kid]
    if not candidates:
        raise PushSignatureError("unknown push key")
    result = jws.deserialize_compact(
        signature, KeySet.import_key_set({"keys": candidates}), payload=body, registry=_registry()
    )
    protected = dict(result.protected)
    if protected.get("aud") != recipient:
        raise PushSignatureError("made for another recipient")
    issued = protected.get("iat")
    moment = time.time() if now is None else now
    if isinstance(issued, bool) or not isinstance(issued, int):
        raise PushSignatureError("no iat")
    if issued < moment - max_age or issued > moment + CLOCK_SKEW_SECONDS:
        raise PushSignatureError("iat outside the accepted window")
    return protected
