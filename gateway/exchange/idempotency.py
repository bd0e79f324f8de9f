"""``Idempotency-Key`` handling for sends (API.md section 4, step 4).

A key is scoped to the sending organisation and kept at least 24 hours. Only a ``202``
answer is stored under a key, in the same transaction as the message, so a refused request
does not use up its key and a crash cannot leave a key without its message.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..clock import aware as _aware
from .errors import Refusal
from .models import IdempotencyKey

KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")
RETENTION = timedelta(hours=24)


def check_key(value: str | None) -> str:
    if value is None:
        raise Refusal(400, "idempotency_key_missing", "Send an Idempotency-Key header.")
    if not KEY_PATTERN.fullmatch(value):
        raise Refusal(
            400,
            "idempotency_key_invalid",
            "The Idempotency-Key must be 1 to 128 visible ASCII characters.",
        )
    return value


def body_hash(body: dict) -> str:
    """A hash of the body's meaning: the same JSON with other whitespace or key order is the
    same body (sorted-key JSON is canonical enough for equality; floats print identically)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def stored_answer(session: Session, org_id: int, key: str, request_hash: str, now: datetime):
    """The stored 202 answer for a repeat, None for a new key; 409 for another body."""
    row = session.execute(
        select(
            IdempotencyKey.request_hash, IdempotencyKey.response, IdempotencyKey.expires_at
        ).where(IdempotencyKey.org_id == org_id, IdempotencyKey.key == key)
    ).first()
    if row is None:
        return None
    if _aware(row.expires_at) <= now:
        session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.org_id == org_id, IdempotencyKey.key == key)
        )
        return None
    if row.request_hash != request_hash:
        raise Refusal(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was used with another body.",
        )
    return json.loads(row.response)


def remember(session: Session, org_id: int, key: str, request_hash: str, answer: dict, now):
    """Store the 202 answer; the unique (org, key) makes a concurrent duplicate fail."""
    session.execute(
        insert(IdempotencyKey),
        {
            "org_id": org_id,
            "key": key,
            "request_hash": request_hash,
            "response": json.dumps(answer),
            "created_at": now,
            "expires_at": now + RETENTION,
        },
    )
