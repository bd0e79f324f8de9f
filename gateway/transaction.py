"""FSC transaction ids (``Fsc-Transaction-Id``): accepted when a UUID, otherwise made (UUIDv7)."""

from __future__ import annotations

import uuid

import uuid6

HEADER = "Fsc-Transaction-Id"


def parse(value: str | None) -> str | None:
    """The canonical form of a UUID header value, or None when it is not a UUID."""
    if value is None:
        return None
    text = value.strip()
    if len(text) != 36:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def new() -> str:
    return str(uuid6.uuid7())
