"""Audit events for failed client authentication (action ``auth.failure``).

A failure is written to the audit log when the request names a *registered* client (by
``client_id``, the assertion's unverified ``sub``, or the Basic user name): its organisation's
privacy officer can then see attempts made in its name. Failures that name no known client
are counted in ``gateway_auth_failures_total`` only: writing an audit event for every anonymous
probe would let anyone grow the log and contend for its append lock at will.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from datetime import UTC, datetime

from ..audit.log import AuditEvent, AuditLog
from ..storage.database import Database
from .store import OAuthStore

log = logging.getLogger(__name__)
MAX_CLAIM_LENGTH = 100


def claimed_client_id(form, headers) -> str | None:
    """The client id a request claims, without verifying anything."""
    value = form.get("client_id")
    if not value and form.get("client_assertion"):
        value = _assertion_subject(form["client_assertion"])
    if not value:
        value = _basic_user(headers.get("Authorization", ""))
    if isinstance(value, str) and 0 < len(value) <= MAX_CLAIM_LENGTH:
        return value
    return None


def _assertion_subject(assertion: str) -> str | None:
    parts = assertion.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    return subject if isinstance(subject, str) else None


def _basic_user(authorization: str) -> str | None:
    if not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def record_failure(
    db: Database,
    store: OAuthStore,
    client_id: str | None,
    code: str,
    fsc_transaction_id: str | None,
) -> None:
    """Write ``auth.failure`` for a registered client; never fail the error answer itself."""
    if client_id is None:
        return
    try:
        client = store.client(client_id)
        if client is None:
            return
        event = AuditEvent(
            action="auth.failure",
            decision="denied",
            reason=code,
            actor_org=client.org_oin,
            actor_client_id=client.client_id,
            fsc_transaction_id=fsc_transaction_id,
        )
        with db.write_session() as session:
            AuditLog().append(session, event, datetime.now(UTC))
    except Exception:  # noqa: BLE001 - the refusal must be answered even if auditing fails
        log.exception("could not audit an authentication failure")
