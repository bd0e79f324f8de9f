"""Signing consent receipts with the gateway's current token-signing key.

The same keys as access tokens, so ``/oauth/jwks`` is the one place a partner fetches to
verify both. The key directory is re-read when it changed (``KeyStore.refresh_signing``),
so after ``gateway keys rotate`` new receipts carry the new ``kid`` without a restart.
"""

from __future__ import annotations

from joserfc import jwt

from ..keys import KeyStore


class KeyStoreReceiptSigner:
    """:class:`consent.interfaces.ReceiptSigner` over the gateway's :class:`KeyStore`."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def sign(self, claims: dict, token_type: str) -> str:
        self.keys.refresh_signing()
        key = self.keys.current_signing_key
        header = {"alg": key.alg, "kid": key.kid, "typ": token_type}
        return jwt.encode(header, claims, key.jwk, algorithms=[key.alg])
