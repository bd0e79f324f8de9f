"""Checking a push from the gateway: the ``Gateway-Signature`` header of a delivery.

A recipient with a ``delivery_url`` gets each inbox item as a POST whose ``Gateway-Signature``
is a JWS with detached payload (RFC 7515 appendix F) over the exact body bytes. Its protected
header binds it to the push purpose, the recipient and the moment of sending::

    {"alg": "ES256", "kid": "push-...", "typ": "gateway-push+jws",
     "aud": "<your OIN>", "iat": <seconds>, "crit": ["aud", "iat"]}

:func:`verify_push` accepts a push only when every check passes: a ``push-`` key published at
the gateway's ``/oauth/jwks`` (token and receipt keys are published there too and must not be
accepted), ``typ``, ``crit``, the signature over the body as received, ``aud`` equal to your
own OIN (a push made for another organisation is refused), and an ``iat`` no older than five
minutes and at most one minute ahead of your clock (a captured push cannot be replayed later).
Deduplicate on the item's ``id`` as well: delivery is at least once.
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

from thuiszitterspact_client.errors import ThuiszitterspactError

PUSH_TYPE = "gateway-push+jws"
PUSH_KID_PREFIX = "push-"
MAX_AGE_SECONDS = 300
CLOCK_SKEW_SECONDS = 60


class PushSignatureError(ThuiszitterspactError):
    """The push must not be accepted (answer 401); the message says which check failed and
    never contains the body."""


def _registry() -> jws.JWSRegistry:
    return jws.JWSRegistry(
        header_registry={
            "aud": HeaderParameter("Recipient OIN", "str", required=True),
            "iat": HeaderParameter("Issued at", "int", required=True),
        },
        algorithms=["ES256"],
    )


def verify_push(
    signature: str,
    body: bytes,
    jwks: dict,
    own_oin: str,
    *,
    now: float | None = None,
    max_age: float = MAX_AGE_SECONDS,
) -> dict:
    """Check a push as organisation ``own_oin``; return its protected header.

    ``jwks`` is the gateway's ``/oauth/jwks`` document; fetch it again once when the ``kid``
    is unknown (the gateway rotates its keys). Raises :class:`PushSignatureError`.
    """
    if not isinstance(signature, str) or signature.count(".") != 2:
        raise PushSignatureError("not a compact JWS with detached payload")
    segment, payload, _ = signature.split(".")
    if payload:
        raise PushSignatureError("not a compact JWS with detached payload")
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise PushSignatureError("unreadable protected header") from None
    if not isinstance(header, dict):
        raise PushSignatureError("unreadable protected header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid.startswith(PUSH_KID_PREFIX):
        raise PushSignatureError("the kid is not a push key")
    if header.get("typ") != PUSH_TYPE:
        raise PushSignatureError(f"typ is not {PUSH_TYPE}")
    if header.get("crit") != ["aud", "iat"]:
        raise PushSignatureError("crit is not ['aud', 'iat']")
    keys = [k for k in (jwks or {}).get("keys", []) if isinstance(k, dict) and k.get("kid") == kid]
    if not keys:
        raise PushSignatureError("unknown push key (fetch /oauth/jwks again once)")
    try:
        result = jws.deserialize_compact(
            signature, KeySet.import_key_set({"keys": keys}), payload=body, registry=_registry()
        )
    except JoseError:
        raise PushSignatureError("the signature does not verify over this body") from None
    protected = dict(result.protected)
    if protected.get("aud") != own_oin:
        raise PushSignatureError("made for another recipient")
    issued = protected.get("iat")
    moment = time.time() if now is None else now
    if isinstance(issued, bool) or not isinstance(issued, int):
        raise PushSignatureError("no iat")
    if issued < moment - max_age or issued > moment + CLOCK_SKEW_SECONDS:
        raise PushSignatureError("iat outside the accepted window")
    return protected
