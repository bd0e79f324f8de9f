"""Audit events carry the gateway's ``trace_id`` and ``span_id``, covered by the hash
(API.md section 8, issue 22); events written before the members existed verify unchanged."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import rfc8785
from sqlalchemy import select, text

from gateway import telemetry
from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.storage.database import Database
from tests.audit_helpers import VIEW_MEMBERS

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def stored(db) -> list[tuple[dict, str]]:
    with db.session() as session:
        found = session.execute(
            select(AuditEventRow.canonical, AuditEventRow.hash).order_by(AuditEventRow.seq)
        ).all()
    return [(json.loads(canonical), digest) for canonical, digest in found]


def rehash(event: dict) -> str:
    """The verification recipe of docs/audit-design.md section 3, written out again."""
    hashed = {k: v for k, v in event.items() if k not in VIEW_MEMBERS}
    return hashlib.sha256(rfc8785.dumps(hashed)).hexdigest()


def test_an_event_hashes_the_gateways_trace_never_the_callers(database_url):
    db = Database(database_url)
    trace = telemetry.Trace(foreign=telemetry.Remote(CALLER_TRACE, CALLER_SPAN))
    with telemetry.using(trace), db.write_session() as session:
        AuditLog().append(session, AuditEvent(action="consent.read", decision="allowed"), AT)
        AuditLog().append(session, AuditEvent(action="consent.read", decision="allowed"), AT)
    (first, first_hash), (second, second_hash) = stored(db)
    assert first["trace_id"] == trace.trace_id != CALLER_TRACE
    assert len(first["span_id"]) == 16 and first["span_id"] != trace.span_id
    # a second processing of the same request: a trace of its own (no shared id to link)
    assert second["trace_id"] != first["trace_id"]
    assert CALLER_TRACE not in json.dumps([first, second])
    assert rehash(first) == first_hash and rehash(second) == second_hash
    changed = {**first, "trace_id": "f" * 32}
    assert rehash(changed) != first_hash  # covered by the hash
    db.dispose()


def test_an_event_outside_any_request_has_a_trace_of_its_own(database_url):
    db = Database(database_url)
    with db.write_session() as session:
        for _ in range(2):
            AuditLog().append(session, AuditEvent(action="admin.pact.run", decision="allowed"), AT)
    (first, _), (second, _) = stored(db)
    assert first["trace_id"] != second["trace_id"]
    assert telemetry.current() is None
    db.dispose()


def test_an_event_without_the_members_still_verifies(database_url):
    """An event of before issue 22 (its document without trace members) rehashes and chains
    as it always did, beside a new one."""
    db = Database(database_url)
    old = AuditEvent(action="consent.read", decision="allowed")
    with db.write_session() as session:
        document = old.document(1, AT, "0" * 64)
        assert "trace_id" not in document and "span_id" not in document
        canonical = rfc8785.dumps(document).decode()
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        session.execute(
            text("UPDATE audit_head SET seq = 1, hash = :h WHERE id = 1"), {"h": digest}
        )
        session.add(
            AuditEventRow(
                seq=1,
                at=AT,
                action=old.action,
                decision=old.decision,
                canonical=canonical,
                hash=digest,
            )
        )
    with db.write_session() as session:
        AuditLog().append(session, AuditEvent(action="consent.read", decision="allowed"), AT)
    (before, before_hash), (after, after_hash) = stored(db)
    assert "trace_id" not in before and "trace_id" in after
    assert rehash(before) == before_hash and rehash(after) == after_hash
    assert after["prev_hash"] == before_hash
    db.dispose()
