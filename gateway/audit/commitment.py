"""The per-event commitment to the child that the audit chain hashes (docs/audit-design.md).

The chain must be verifiable by every reader, yet a partner may not see the child's global
audit pseudonym (API.md section 13 rule 1). So the hashed event holds
``subject_commitment = SHA-256(DOMAIN || opening || subject_ref)``, where ``opening`` is 16
random bytes drawn for that event alone. The commitment is:

- hiding: without the opening (kept for the operator's readers only) nobody can test it
  against a guessed child, even one who could compute ``subject_ref``;
- unlinkable: two events about one child carry unrelated commitments;
- binding: the operator's reader, given ``subject_ref`` and ``opening``, checks that the
  stored index column names the child the chain committed to (a rewritten ``subject_ref``
  column is caught by verify);
- shreddable: erasing ``subject_ref`` and ``opening`` of one child's events leaves every hash
  and proof intact while nobody can say any more whom those events were about.

Plain Python (no Flask, no database), so independent verifiers can copy the recipe.
"""

from __future__ import annotations

import hashlib
import secrets

DOMAIN = b"thuiszitterspact/audit-subject/v1\x00"
OPENING_BYTES = 16


def new_opening() -> str:
    """A fresh opening, hex (32 characters)."""
    return secrets.token_hex(OPENING_BYTES)


def commit(subject_ref: str, opening: str) -> str:
    """The commitment (hex SHA-256) to ``subject_ref`` under ``opening`` (hex)."""
    return hashlib.sha256(DOMAIN + bytes.fromhex(opening) + subject_ref.encode("utf-8")).hexdigest()


def opens(commitment: str | None, subject_ref: str | None, opening: str | None) -> bool:
    """Whether the index columns ``subject_ref`` and ``opening`` agree with ``commitment``.

    Both None agrees with any commitment: the event named no child, or its reference was
    crypto-shredded (docs/audit-design.md, retention)."""
    if subject_ref is None and opening is None:
        return True
    if commitment is None or subject_ref is None or opening is None:
        return False
    try:
        return secrets.compare_digest(commit(subject_ref, opening), commitment)
    except ValueError:
        return False
