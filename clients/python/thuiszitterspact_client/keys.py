"""The client's EC P-256 key: signing client assertions and opening the key-share JWE.

Why one key for both: the gateway seals each organisation's key share to the EC key the
client already registered for ``private_key_jwt`` (ECDH-ES+A256KW), so partners manage no
second key. That registered JWK usually says ``"use": "sig"`` and ``"alg": "ES256"``, and a
JOSE library rightly refuses to decrypt with such a key; for decryption we therefore import
the same key material without those members.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from thuiszitterspact_client.errors import KeyShareError
from thuiszitterspact_client.pep import KeyShare

KEY_SHARE_ALG = "ECDH-ES+A256KW"
KEY_SHARE_ENC = "A256GCM"
KEY_SHARE_CTY = "application/json"
_USAGE_MEMBERS = ("use", "alg", "key_ops")
_REGISTRY = jwe.JWERegistry(algorithms=[KEY_SHARE_ALG, KEY_SHARE_ENC])


def load_private_jwk(path: str | Path) -> dict[str, Any]:
    """Read a private JWK file (as ``gateway demo keys`` or the examples README write it)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    check_private_jwk(data)
    return data


def check_private_jwk(jwk: object) -> None:
    """An EC P-256 private key: the only kind that both signs ES256 and opens the share."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("The client key must be an EC P-256 JWK.")
    if "d" not in jwk:
        raise ValueError("The client key must be the private JWK (it has no 'd').")


def signing_key(jwk: Mapping[str, Any]) -> ECKey:
    """The key for ES256 client assertions, with its ``kid`` as registered."""
    check_private_jwk(jwk)
    return ECKey.import_key(dict(jwk))


def decryption_key(jwk: Mapping[str, Any]) -> ECKey:
    """The same key without ``use``/``alg``/``key_ops``, so it may be used for ECDH-ES."""
    check_private_jwk(jwk)
    return ECKey.import_key(
        {name: value for name, value in jwk.items() if name not in _USAGE_MEMBERS}
    )


def open_key_share(token: str, private_jwk: Mapping[str, Any]) -> KeyShare:
    """Decrypt the compact JWE of ``GET /api/v1/pep/key-share`` and parse its plaintext.

    Only ``ECDH-ES+A256KW`` with ``A256GCM`` is accepted. The share is verified
    (:meth:`KeyShare.verify`); matching it against the published keys is the caller's step.
    """
    if type(token) is not str:
        raise KeyShareError("The key share must be a compact JWE string.")
    key = decryption_key(private_jwk)
    try:
        sealed = jwe.decrypt_compact(token, key, registry=_REGISTRY)
    except (JoseError, ValueError):
        raise KeyShareError("The key share cannot be opened with this client's key.") from None
    header = sealed.protected
    if header.get("alg") != KEY_SHARE_ALG or header.get("enc") != KEY_SHARE_ENC:
        raise KeyShareError("The key share is not sealed with ECDH-ES+A256KW and A256GCM.")
    if header.get("cty", KEY_SHARE_CTY) != KEY_SHARE_CTY:
        raise KeyShareError("The key share's content type is not application/json.")
    return KeyShare.from_json(sealed.plaintext)
