"""The ``Gateway-Signature`` header: a JWS with detached payload (RFC 7515 appendix F).

The gateway signs the exact bytes of the pushed body with its current signing key, the same
ES256 keys it publishes at ``/oauth/jwks``, with the ``kid`` in the protected header. The
compact serialisation without its payload segment (``header..signature``) goes in the header;
a recipient puts the received body back in the middle (or passes it as the detached payload to
its JOSE library) and verifies with the published key of that ``kid``.
"""

from __future__ import annotations

from joserfc import jws

from ..keys import KeyStore


class DeliverySigner:
    """Signs pushed bodies with the key store's current signing key."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def sign(self, body: bytes) -> str:
        """``header..signature`` over ``body``; a rotated key is picked up without restart."""
        self.keys.refresh_signing()
        key = self.keys.current_signing_key
        compact = jws.serialize_compact(
            {"alg": key.alg, "kid": key.kid}, body, key.jwk, algorithms=[key.alg]
        )
        return jws.detach_content(compact)


def verify(signature: str, body: bytes, jwks: dict) -> dict:
    """Check ``signature`` over ``body`` with a JWKS (as ``/oauth/jwks`` serves it).

    Returns the protected header; raises :class:`joserfc.errors.JoseError` when the
    signature does not verify, names an unknown key, or is not a detached compact JWS.
    """
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    if signature.count(".") != 2 or signature.split(".")[1] != "":
        raise JoseError("not a compact JWS with detached payload")
    result = jws.deserialize_compact(
        signature, KeySet.import_key_set(jwks), algorithms=["ES256"], payload=body
    )
    return dict(result.protected)
