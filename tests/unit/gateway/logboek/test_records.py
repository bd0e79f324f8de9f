"""The Logboek record written beside each processing's audit event (gateway/logboek/records):
same transaction, the standard's fields, the register's activity, nothing for administration.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from gateway import telemetry
from gateway.audit.log import AuditEvent, AuditLog
from gateway.keys import KeyStore
from gateway.logboek import subject
from gateway.logboek.models import LogboekRecordRow
from gateway.logboek.records import LogboekWriter, entity_of, is_processing
from gateway.storage.database import Database
from gateway.storage.models import Organisation

BASE = "https://gateway.example.nl"
SCHOOL = "00000001001234567000"
LEERPLICHT = "00000001005678901000"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture
def world(database_url, keys_dir):
    db = Database(database_url)
    keys = KeyStore(keys_dir, allow_generate=False)
    with db.write_session() as session:
        session.execute(
            insert(Organisation),
            [
                {"oin": SCHOOL, "name": "School", "type": "school"},
                {"oin": LEERPLICHT, "name": "Leerplicht", "type": "leerplicht"},
            ],
        )
    log = AuditLog(None, LogboekWriter(keys, BASE, frozenset({"signal_match"})))
    yield db, keys, log
    db.dispose()


def send_event(**changes) -> AuditEvent:
    fields = {
        "action": "exchange.send",
        "decision": "allowed",
        "actor_org": SCHOOL,
        "sender": SCHOOL,
        "recipient": LEERPLICHT,
        "message_type": "absence_report",
        "purpose": "leerplicht_enforcement",
        "subject_ref": "audit-pseudonym-of-the-child",
    }
    return AuditEvent(**{**fields, **changes})


def rows(db) -> list[LogboekRecordRow]:
    with db.session() as session:
        return list(session.scalars(select(LogboekRecordRow).order_by(LogboekRecordRow.id)))


def test_a_send_in_a_callers_trace_is_one_record_in_the_same_transaction(world):
    db, keys, log = world
    trace = telemetry.Trace(foreign=telemetry.Remote(CALLER_TRACE, CALLER_SPAN))
    with telemetry.using(trace), db.write_session() as session:
        receipt = log.append(session, send_event(), AT)
    [row] = rows(db)
    assert (row.trace_id, row.parent_span_id) == (trace.trace_id, trace.span_id)
    assert len(row.span_id) == 16 and row.span_id != trace.span_id
    assert row.name == "exchange.send" and row.status == "ok" and row.decision == "allowed"
    assert (row.foreign_trace_id, row.foreign_span_id) == (CALLER_TRACE, CALLER_SPAN)
    assert row.foreign_entity == "urn:nl:oin:00000001001234567000"
    assert row.activity == (
        f"{BASE}/api/v1/processing-activities/"
        "leerplicht_enforcement.absence_report.school-leerplicht"
    )
    assert row.audit_seq == receipt.seq
    assert row.end_ns == int(AT.timestamp() * 1_000_000_000)
    key, _ = keys.logboek_key()
    assert row.subject_type == "audit_pseudonym"
    assert subject.decrypt(row.subject, key) == "audit-pseudonym-of-the-child"


def test_a_rolled_back_processing_leaves_no_record(world):
    db, _, log = world

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.write_session() as session:
        log.append(session, send_event(), AT)
        raise Boom
    assert rows(db) == []


def test_a_refusal_is_unset_with_its_code_and_no_caller_trace_means_no_foreign_operation(world):
    db, _, log = world
    with db.write_session() as session:
        log.append(session, send_event(decision="denied", reason="no_consent"), AT)
    [row] = rows(db)
    assert (row.status, row.decision, row.reason) == ("unset", "denied", "no_consent")
    assert row.foreign_trace_id is row.foreign_span_id is row.foreign_entity is None
    assert row.parent_span_id is not None  # its own trace, started for it


@pytest.mark.parametrize(
    ("action", "fields", "activity"),
    [
        ("consent.record", {}, "gateway.consent_registry"),
        ("signal.create", {}, "gateway.signal_matching"),
        ("reidentification.request", {}, "gateway.reidentification"),
        ("audit.search", {}, "gateway.audit_log"),
        ("audit.subject_report", {}, "gateway.subject_access"),
        (
            "exchange.deliver",
            {"actor_org": "00000001006789012000"},
            "leerplicht_enforcement.absence_report.school-leerplicht",
        ),
        (
            "exchange.send",
            {"message_type": "signal_match", "purpose": "signal_matching"},
            "signal_matching.signal_match.gateway",
        ),
    ],
)
def test_each_processing_names_its_register_activity(world, action, fields, activity):
    db, _, log = world
    with db.write_session() as session:
        log.append(session, send_event(action=action, **fields), AT)
    [row] = rows(db)
    assert row.activity == f"{BASE}/api/v1/processing-activities/{activity}"


def test_a_send_refused_before_its_route_names_no_activity(world):
    db, _, log = world
    with db.write_session() as session:
        log.append(session, send_event(decision="denied", purpose=None, recipient=None), AT)
    [row] = rows(db)
    assert row.activity is None and row.status == "unset"


@pytest.mark.parametrize(
    "action", ["admin.route.update", "admin.client.create", "audit.verify", "audit.gap_detected"]
)
def test_administration_is_no_data_processing(world, action):
    db, _, log = world
    assert not is_processing(action)
    with db.write_session() as session:
        log.append(session, send_event(action=action, subject_ref=None), AT)
    assert rows(db) == []


def test_the_server_error_record_is_error_without_a_subject(world):
    db, keys, _ = world
    writer = LogboekWriter(keys, BASE)
    trace = telemetry.Trace(foreign=telemetry.Remote(CALLER_TRACE, CALLER_SPAN), caller=SCHOOL)
    with db.write_session() as session:
        writer.failed(session, trace, "exchange.send", "leerplicht_enforcement.x.school-gateway")
    [row] = rows(db)
    assert (row.status, row.name, row.subject, row.audit_seq) == (
        "error",
        "exchange.send",
        None,
        None,
    )
    assert row.foreign_entity == entity_of(SCHOOL) == "urn:nl:oin:00000001001234567000"
    assert row.activity.endswith("/processing-activities/leerplicht_enforcement.x.school-gateway")
