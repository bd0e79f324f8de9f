"""Encryption at rest of a stored message (the subject as delivered and the payload).

AES-256-GCM under the ``payload`` key derived from the master secret (HKDF, versioned), with
the message id as associated data so that a ciphertext moved to another row does not open.
"""

from __future__ import annotations

import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pseudonymise.keys import KeyRing

PURPOSE = "payload"


class MessageSealer:
    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    def seal(self, message_id: str, content: dict) -> tuple[int, bytes]:
        version = self.keyring.current_version
        nonce = os.urandom(12)
        aead = AESGCM(self.keyring.derive(PURPOSE, version))
        plaintext = json.dumps(content, separators=(",", ":")).encode()
        return version, nonce + aead.encrypt(nonce, plaintext, message_id.encode())

    def open(self, message_id: str, version: int, sealed: bytes) -> dict:
        aead = AESGCM(self.keyring.derive(PURPOSE, version))
        plaintext = aead.decrypt(sealed[:12], sealed[12:], message_id.encode())
        return json.loads(plaintext)
