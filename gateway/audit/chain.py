"""Reading the chain links out of an event's canonical JSON without parsing it.

In RFC 8785 JSON a quote inside a string is always escaped, and no nested object of an event
(``actor``, ``legal_basis``) has a ``seq`` or ``prev_hash`` member, so ``,"seq":`` and
``"prev_hash":"`` occur exactly once in every event the log wrote: as its own members. A
string search is therefore exact for genuine entries, and for a tampered entry any
disagreement makes verification fail, which is all it has to do. It keeps verification of
millions of entries close to the cost of reading and hashing them.
"""

from __future__ import annotations

import hashlib

GENESIS_HASH = "0" * 64
_PREV = '"prev_hash":"'
_SEQ = ',"seq":'


class ChainBroken(Exception):
    """Entry ``seq`` does not follow from the entries before it."""

    def __init__(self, seq: int, why: str) -> None:
        super().__init__(f"audit entry {seq}: {why}")
        self.seq = seq
        self.why = why


def prev_hash_of(canonical: str) -> str | None:
    start = canonical.find(_PREV)
    if start < 0:
        return None
    start += len(_PREV)
    return canonical[start : start + 64]


_COMMITMENT = '"subject_commitment":'


def commitment_of(canonical: str) -> str | None:
    """The hashed ``subject_commitment`` (None when null or absent). Nested objects of an
    event have no member of that name, so the first occurrence is the event's own."""
    start = canonical.find(_COMMITMENT)
    if start < 0:
        return None
    start += len(_COMMITMENT)
    if canonical.startswith('"', start):
        return canonical[start + 1 : start + 65]
    return None


def has_seq(canonical: str, seq: int) -> bool:
    start = canonical.find(_SEQ)
    if start < 0:
        return False
    digits = str(seq)
    start += len(_SEQ)
    end = start + len(digits)
    return canonical.startswith(digits, start) and canonical[end : end + 1] in (",", "}")


def check_entry(seq: int, canonical: str, stored_hash: str, previous_hash: str) -> str | None:
    """Why entry ``seq`` is not the successor of ``previous_hash``, or None when it is."""
    if hashlib.sha256(canonical.encode()).hexdigest() != stored_hash:
        return "hash does not match the stored canonical bytes"
    if not has_seq(canonical, seq):
        return "sequence number out of place"
    if prev_hash_of(canonical) != previous_hash:
        return "prev_hash does not link to the previous entry"
    return None
