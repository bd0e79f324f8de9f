"""Signing consent receipts with the gateway's current receipt key (``receipts/``).

Not the token-signing key: one key per purpose, so a receipt's signature can never be taken
for an access token's or a push's. The receipt keys are published at ``/oauth/jwks`` too (kid
prefix ``receipt-``), the one place a partner fetches to verify all of them. The folder is
re-read when it changed (``SigningKeyFolder.refresh``), so after ``gateway keys rotate`` new
receipts carry the new ``kid`` without a restart.
"""

from __future__ import annotations

from joserfc import jwt

from ..keys import KeyStore


class KeyStoreReceiptSigner:
    """:class:`consent.interfaces.ReceiptSigner` over the gateway's :class:`KeyStore`."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def sign(self, claims: dict, token_type: str) -> str:
        self.keys.receipts.refresh()
        key = self.keys.receipts.current
        header = {"alg": key.alg, "kid": key.kid, "typ": token_type}
        return jwt.encode(header, claims, key.jwk, algorithms=[key.alg])
