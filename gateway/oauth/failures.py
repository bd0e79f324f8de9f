"""What a failed client authentication leaves behind (API.md section 13 rule 4).

Every failure is counted in ``gateway_auth_failures_total`` (by method and RFC 6749 error
code, both fixed enumerations) and logged as one line without any value the caller chose.
An ``auth.failure`` audit event is written only when the request *proved* it was a registered
client (a verified assertion signature, the registered certificate, the right secret) and then
failed: a scope not registered, a suspended organisation, a malformed introspection; on
``/api/v1`` a valid token of a suspended organisation (:mod:`.protect`). A request
that merely names a client (``client_id``, an unverified assertion's ``sub``, a Basic user
name) proves nothing: auditing it would let anyone grow the log and contend for its append
lock at will, and fill a partner's audit view with events written in its name by strangers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from .. import metrics
from ..audit.log import AuditEvent, AuditLog
from ..storage.database import Database
from .clients import ClientRecord

log = logging.getLogger(__name__)


def count_failure(endpoint: str, method: str, code: str, client: ClientRecord | None) -> None:
    """The metric and the log line of every refused token, introspection or revocation call.

    ``endpoint``, ``method`` and ``code`` are the server's own enumerations; the client id is
    logged only when the request proved it (a claimed id could be any text, even a BSN).
    """
    metrics.AUTH_FAILURES.labels(method, code).inc()
    log.info(
        "oauth request refused",
        extra={
            "endpoint": endpoint,
            "method": method,
            "error": code,
            "client_id": client.client_id if client is not None else None,
            "audited": client is not None,
        },
    )


def record_failure(
    db: Database,
    audit: AuditLog,
    org_oin: str,
    client_id: str,
    code: str,
    fsc_transaction_id: str | None,
) -> None:
    """Write ``auth.failure`` for a client that proved who it was; never fail the answer."""
    try:
        event = AuditEvent(
            action="auth.failure",
            decision="denied",
            reason=code,
            actor_org=org_oin,
            actor_client_id=client_id,
            fsc_transaction_id=fsc_transaction_id,
        )
        with db.write_session() as session:
            audit.append(session, event, datetime.now(UTC))
    except Exception:  # noqa: BLE001 - the refusal must be answered even if auditing fails
        log.exception("could not audit an authentication failure")
