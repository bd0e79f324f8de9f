"""Case references (design section 2.2): one random UUID v4 per participant.

A reference is drawn when an organisation becomes a participant and is derived from nothing
(not the case id, not the child), so there is nothing to compute and nothing to test a
guessed BSN against; it names the case for that one organisation only.
"""

from __future__ import annotations

import uuid


def new_case_ref() -> str:
    """A fresh reference: lower-case UUID v4, the form ``CaseRef`` accepts."""
    return str(uuid.uuid4())


def looks_like_case_ref(value: str) -> bool:
    """Whether a path segment can be a reference at all (anything else is ``not_found``
    without a database read; the answer is the same either way)."""
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, TypeError, AttributeError):
        return False
