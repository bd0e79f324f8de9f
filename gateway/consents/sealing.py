"""Encryption at rest of a consent's private details and of withdrawal reasons.

AES-256-GCM under a key derived for this purpose only (HKDF, versioned like every key of
the gateway), with the consent id (and what the text is) as associated data, so that a
ciphertext copied to another row or field does not open.
"""

from __future__ import annotations

import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pseudonymise import KeyRing

PURPOSE = "consent-details"


class ConsentSealer:
    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    def seal(self, associated: str, content: dict) -> tuple[int, bytes]:
        version = self.keyring.current_version
        nonce = os.urandom(12)
        aead = AESGCM(self.keyring.derive(PURPOSE, version))
        plaintext = json.dumps(content, separators=(",", ":")).encode()
        return version, nonce + aead.encrypt(nonce, plaintext, associated.encode())

    def open(self, associated: str, version: int, sealed: bytes) -> dict:
        aead = AESGCM(self.keyring.derive(PURPOSE, version))
        return json.loads(aead.decrypt(sealed[:12], sealed[12:], associated.encode()))
