"""The audit hash recipe of docs/audit-design.md, written from the document, not imported:
drop the view members, RFC 8785, SHA-256 (leaf: 0x00 first)."""

from __future__ import annotations

import hashlib

import rfc8785

VIEW_MEMBERS = ("hash", "subject_ref", "subject_opening")


def hashed_form(event: dict) -> bytes:
    return rfc8785.dumps({k: v for k, v in event.items() if k not in VIEW_MEMBERS})


def recompute_hash(event: dict) -> str:
    return hashlib.sha256(hashed_form(event)).hexdigest()
