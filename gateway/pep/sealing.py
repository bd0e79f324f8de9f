"""What the gateway keeps of a polymorphic child: its link tag, sealed, never in the clear.

The link tag ``t*M`` is the child's stable name in polymorphic mode, and every partner holds the
link secret ``t`` (it proves the tag of what it sends). A raw tag in the database is therefore
a BSN oracle for any partner that reads the database: try every BSN, compute ``t*M``, compare.
So a stored tag (``messages.pep_link``, kept so that the recipient can reply by its own
encrypted pseudonym) is sealed with AES-256-GCM under a key derived from the master secret
(HKDF purpose ``pep-link``, versioned), bound to its message id as associated data, so that a
sealed tag moved to another row does not open:

    version (1 byte) || nonce (12) || AES-256-GCM(key(version), nonce, tag, ad="pep-link|<id>")

Why sealed and not a keyed hash: a reply's equality proof is checked against the delivered
ciphertext (``messages.pep_delivered``), not against the tag, but the reply still needs the
child's tag itself, to name the child in the audit, consent and match domains and to keep it
for the reply's own recipient. A hash cannot give it back. No lookup ever searches by tag (a
reply names its message by id), so no deterministic value is kept at all: the random nonce
makes two seals of one child's tag differ, and the column joins nothing.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pseudonymise import LinkTag
from pseudonymise.errors import UnknownKeyVersionError
from pseudonymise.keys import KeyRing
from pseudonymise.link import LINK_TAG_BYTES

PURPOSE = "pep-link"
NONCE_BYTES = 12
SEALED_BYTES = 1 + NONCE_BYTES + LINK_TAG_BYTES + 16


class UnreadableLinkError(Exception):
    """A stored link tag that does not open (another row's, tampered, or a retired key)."""


class LinkSealer:
    """Seals and opens stored link tags under the ``pep-link`` key of the master secret."""

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    def seal(self, message_id: str, link: LinkTag) -> bytes:
        if type(link) is not LinkTag:
            raise TypeError("seal() takes a LinkTag")
        version = self.keyring.current_version
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead(version).encrypt(nonce, link.value, _ad(message_id))
        return bytes((version,)) + nonce + sealed

    def open(self, message_id: str, sealed: bytes) -> LinkTag:
        if type(sealed) is not bytes or len(sealed) != SEALED_BYTES:
            raise UnreadableLinkError()
        try:
            aead = self._aead(sealed[0])
            value = aead.decrypt(
                sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], _ad(message_id)
            )
        except (InvalidTag, UnknownKeyVersionError):
            raise UnreadableLinkError() from None
        return LinkTag(value)

    def _aead(self, version: int) -> AESGCM:
        return AESGCM(self.keyring.derive(PURPOSE, version))


def _ad(message_id: str) -> bytes:
    return f"{PURPOSE}|{message_id}".encode("ascii")
