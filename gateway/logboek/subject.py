"""``dpl.core.data_subject_id``: the child, encrypted for the Logboek with a key of its own.

Scheme: deterministic AES-SIV (RFC 5297, AES-256, 64-byte key) under the key store's
``logboek`` purpose (HKDF of the master secret, :meth:`gateway.keys.KeyStore.logboek_key`),
with the attribute's name as associated data, written ``v<key version>.<base64url>``.

What is encrypted is the child's *audit pseudonym* (the audit event's ``subject_ref``), never
the BSN: the audit log's hook is where every processing's record is written, and it holds no
BSN (a BSN never enters the audit path). Deterministic, so the controller's Logboek can group
every processing of one child and answer a subject access request by encrypting the child's
audit pseudonym (which the gateway's subject report computes from a BSN) and searching; a
randomised scheme (HPKE) would hide even that grouping but make the Logboek unsearchable by
child, which the AVG's right of access needs. The key is separate from every other key, so
handing it to the Logboek's holder opens nothing else (no pseudonym domain, no payload).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

SUBJECT_TYPE = "audit_pseudonym"
"""``dpl.core.data_subject_id_type``: what the decrypted value is."""
AAD = b"dpl.core.data_subject_id"
KEY_LENGTH = 64


def encrypt(subject_ref: str, key: bytes, version: int) -> str:
    sealed = AESSIV(key).encrypt(subject_ref.encode("utf-8"), [AAD])
    return f"v{version}." + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def key_version(value: str) -> int | None:
    head, _, _ = value.partition(".")
    return int(head[1:]) if head[:1] == "v" and head[1:].isdigit() else None


def decrypt(value: str, key: bytes) -> str | None:
    """The audit pseudonym of a record, for the Logboek's holder; None if not ours."""
    _, _, body = value.partition(".")
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AESSIV(key).decrypt(sealed, [AAD]).decode("utf-8")
    except (InvalidTag, ValueError, binascii.Error):
        return None
