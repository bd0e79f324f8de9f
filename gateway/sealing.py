"""Encryption at rest of a JSON document bound to the row it belongs to.

AES-256-GCM under a key derived for one purpose only (HKDF from the master secret,
versioned like every key of the gateway), with the row's identity as associated data, so
that a ciphertext copied to another row or field does not open. Stored messages (the
subject as delivered and the payload) and a consent's private details each have their own
purpose, so one key never serves both.
"""

from __future__ import annotations

import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pseudonymise.keys import KeyRing

NONCE_BYTES = 12


class Sealer:
    def __init__(self, keyring: KeyRing, purpose: str) -> None:
        self.keyring = keyring
        self.purpose = purpose

    def seal(self, associated: str, content: dict) -> tuple[int, bytes]:
        """``(key version, nonce || ciphertext)`` of ``content`` bound to ``associated``."""
        version = self.keyring.current_version
        nonce = os.urandom(NONCE_BYTES)
        aead = AESGCM(self.keyring.derive(self.purpose, version))
        plaintext = json.dumps(content, separators=(",", ":")).encode()
        return version, nonce + aead.encrypt(nonce, plaintext, associated.encode())

    def open(self, associated: str, version: int, sealed: bytes) -> dict:
        aead = AESGCM(self.keyring.derive(self.purpose, version))
        plaintext = aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated.encode())
        return json.loads(plaintext)


MESSAGES = "payload"
"""The purpose of stored messages: the subject as delivered and the payload."""
CONSENT_DETAILS = "consent-details"
"""The purpose of a consent's private details and of withdrawal reasons."""
INZAGE_REFERENCES = "web-inzage-reference"
"""The purpose of the web inzage answer's short-lived references to a child."""
