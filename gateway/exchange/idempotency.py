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

import rfc8785
from sqlalchemy import select
from sqlalchemy.orm import Session

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
    """A hash of the body's meaning: the same JSON with other whitespace or key order is
    the same body."""
    try:
        canonical = rfc8785.dumps(body)
    except Exception:  # noqa: BLE001 - integers beyond JCS's range: fall back to sorted JSON
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def stored_answer(session: Session, org_id: int, key: str, request_hash: str, now: datetime):
    """The stored 202 answer for a repeat, None for a new key; 409 for another body."""
    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.org_id == org_id, IdempotencyKey.key == key)
    ).first()
    if row is None or _aware(row.expires_at) <= now:
        return None
    if row.request_hash != request_hash:
        raise Refusal(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was used with another body.",
        )
    return json.loads(row.response)


def remember(session: Session, org_id: int, key: str, request_hash: str, answer: dict, now):
    existing = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.org_id == org_id, IdempotencyKey.key == key)
    ).first()
    if existing is not None:  # an expired key is reused
        session.delete(existing)
        session.flush()
    session.add(
        IdempotencyKey(
            org_id=org_id,
            key=key,
            request_hash=request_hash,
            response=json.dumps(answer),
            created_at=now,
            expires_at=now + RETENTION,
        )
    )


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
