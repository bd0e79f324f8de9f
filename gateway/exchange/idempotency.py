"""``Idempotency-Key`` handling for sends (API.md section 4, step 4).

A key is scoped to the sending organisation and kept at least 24 hours. Only a ``202``
answer is stored under a key, in the same transaction as the message, so a refused request
does not use up its key and a crash cannot leave a key without its message.

What is kept to tell "the same body" from "another body" is keyed: the body names the child
(a BSN, or a polymorphic link tag every partner can compute from a BSN), so a bare SHA-256 of
it could be tested against every guessed BSN by anyone who reads the table. The stored value
is ``<version>:<hex HMAC-SHA256(K, SHA-256(canonical body))>`` with ``K`` derived from the
master secret of that version (HKDF purpose ``idempotency``), so a replay still matches after
a new master version was added, and migration 0012 could convert the bare hashes it found.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from pseudonymise.keys import KeyRing

from ..clock import aware as _aware
from ..storage import direct
from .errors import IdempotencyKeyInvalid, IdempotencyKeyMissing, IdempotencyKeyReused
from .models import IdempotencyKey

KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")
RETENTION = timedelta(hours=24)
PURPOSE = "idempotency"
_INSERT = insert(IdempotencyKey.__table__).inline()  # no generated key read back
_STORED = select(
    IdempotencyKey.request_hash, IdempotencyKey.response, IdempotencyKey.expires_at
).where(IdempotencyKey.org_id == bindparam("org_id"), IdempotencyKey.key == bindparam("key"))
"""The statements of a send, built once (building a select cost more than running it, and the
ORM's bulk-insert path about 0.5 ms (profiled) a statement; issue 23)."""


def check_key(value: str | None) -> str:
    if value is None:
        raise IdempotencyKeyMissing("Send an Idempotency-Key header.")
    if not KEY_PATTERN.fullmatch(value):
        raise IdempotencyKeyInvalid(
            "The Idempotency-Key must be 1 to 128 visible ASCII characters."
        )
    return value


def body_digest(body: dict) -> bytes:
    """SHA-256 of the body's meaning: the same JSON with other whitespace or key order is the
    same body (sorted-key JSON is canonical enough for equality; floats print identically).
    Held in memory only; see :class:`RequestHash` for what is stored."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()


def keyed(keyring: KeyRing, digest: bytes, version: int | None = None) -> str:
    """``<version>:<hex HMAC>`` of a body digest under that version's ``idempotency`` key."""
    version = keyring.current_version if version is None else version
    mac = hmac.new(keyring.derive(PURPOSE, version), digest, hashlib.sha256).hexdigest()
    return f"{version}:{mac}"


class RequestHash:
    """A request body as the idempotency record knows it: only ever stored keyed."""

    __slots__ = ("_digest", "_keyring")

    def __init__(self, keyring: KeyRing, body: dict) -> None:
        self._keyring = keyring
        self._digest = body_digest(body)

    def stored(self) -> str:
        """The value to store, under the current key version."""
        return keyed(self._keyring, self._digest)

    def matches(self, stored: str) -> bool:
        """Whether a stored value is this body's, under the key version it names."""
        version, _, _ = stored.partition(":")
        if not version.isdigit() or int(version) not in self._keyring:
            return False
        return hmac.compare_digest(keyed(self._keyring, self._digest, int(version)), stored)

    def __repr__(self) -> str:
        return "RequestHash(<masked>)"


def stored_answer(
    session: Session, org_id: int, key: str, request_hash: RequestHash, now: datetime
):
    """The stored 202 answer for a repeat, None for a new key; 409 for another body."""
    row = direct.execute(session, _STORED, {"org_id": org_id, "key": key}).first()
    return answer_of(session, row, org_id, key, request_hash, now)


def answer_of(session: Session, row, org_id: int, key: str, request_hash: RequestHash, now):
    """:func:`stored_answer` from the record's row (``request_hash``, ``response``,
    ``expires_at``) as read already (:mod:`gateway.exchange.lookups`), or None."""
    if row is None:
        return None
    if _aware(row.expires_at) <= now:
        session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.org_id == org_id, IdempotencyKey.key == key)
        )
        return None
    if not request_hash.matches(row.request_hash):
        raise IdempotencyKeyReused("This Idempotency-Key was used with another body.")
    return json.loads(row.response)


def remember(session: Session, org_id: int, key: str, request_hash: RequestHash, answer: dict, now):
    """Store the 202 answer; the unique (org, key) makes a concurrent duplicate fail."""
    direct.execute(
        session,
        _INSERT,
        {
            "org_id": org_id,
            "key": key,
            "request_hash": request_hash.stored(),
            "response": json.dumps(answer),
            "created_at": now,
            "expires_at": now + RETENTION,
        },
    )
