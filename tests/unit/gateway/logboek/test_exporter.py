"""The Logboek outbox's sender (gateway/logboek/exporter): a row leaves only once the Logboek
confirmed it, a refusal backs off and keeps the batch, and each row is one OTLP span with the
standard's fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import select

from gateway import telemetry
from gateway.audit.log import AuditEvent, AuditLog
from gateway.keys import KeyStore
from gateway.logboek.exporter import BACKLOG, ExportPolicy, LogboekExporter, to_span
from gateway.logboek.models import LogboekRecordRow
from gateway.logboek.records import LogboekWriter
from gateway.storage.database import Database

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


class FakeLogboek:
    """Answers each export with the next of ``answers`` (then SUCCESS); keeps what it got."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.batches: list[list] = []

    def export(self, spans):
        self.batches.append(list(spans))
        return self.answers.pop(0) if self.answers else SpanExportResult.SUCCESS

    def shutdown(self):
        pass


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def outbox(database_url, keys_dir):
    db = Database(database_url)
    log = AuditLog(None, LogboekWriter(KeyStore(keys_dir, allow_generate=False), "https://gw"))
    trace = telemetry.Trace(foreign=telemetry.Remote(CALLER_TRACE, CALLER_SPAN))
    with telemetry.using(trace), db.write_session() as session:
        for _ in range(3):
            log.append(
                session,
                AuditEvent(
                    action="consent.record",
                    decision="allowed",
                    actor_org="0" * 19 + "1",
                    subject_ref="child",
                ),
                AT,
            )
    yield db
    db.dispose()


def remaining(db) -> list[LogboekRecordRow]:
    with db.session() as session:
        return list(session.scalars(select(LogboekRecordRow)))


def test_a_refused_batch_stays_and_is_sent_again_after_the_backoff(outbox):
    logboek, clock = FakeLogboek(SpanExportResult.FAILURE), Clock()
    exporter = LogboekExporter(outbox, ExportPolicy("http://x", backoff_seconds=5), logboek, clock)
    assert exporter.run_once() == 0
    assert len(logboek.batches) == 1 and len(logboek.batches[0]) == 3
    assert [row.attempts for row in remaining(outbox)] == [1, 1, 1]
    assert exporter.backlog() == 3 and BACKLOG._value.get() == 3
    clock.now += 4.9
    assert exporter.run_once() == 0 and len(logboek.batches) == 1  # still waiting
    clock.now += 0.2
    assert exporter.run_once() == 3
    assert len(logboek.batches) == 2
    assert [s.context.span_id for s in logboek.batches[0]] == [
        s.context.span_id for s in logboek.batches[1]
    ]
    assert remaining(outbox) == [] and exporter.backlog() == 0


def test_the_backoff_doubles_per_failure(outbox):
    logboek, clock = FakeLogboek(*[SpanExportResult.FAILURE] * 3), Clock()
    exporter = LogboekExporter(outbox, ExportPolicy("http://x", backoff_seconds=2), logboek, clock)
    waits = []
    for _ in range(3):
        exporter.run_once()
        waits.append(exporter.next_at - clock.now)
        clock.now = exporter.next_at
    assert waits == [2, 4, 8]


def test_an_exporter_that_raises_keeps_the_batch(outbox):
    class Broken(FakeLogboek):
        def export(self, spans):
            raise ConnectionError("the Logboek is away")

    exporter = LogboekExporter(outbox, ExportPolicy("http://x"), Broken(), Clock())
    assert exporter.run_once() == 0 and len(remaining(outbox)) == 3


def test_a_record_is_a_span_with_the_standards_fields(outbox):
    exporter = LogboekExporter(outbox, ExportPolicy("http://x"), FakeLogboek(), Clock())
    row = remaining(outbox)[0]
    span = to_span(row, exporter.owner)
    assert format(span.context.trace_id, "032x") == row.trace_id
    assert format(span.context.span_id, "016x") == row.span_id
    assert format(span.parent.span_id, "016x") == row.parent_span_id
    assert span.name == "consent.record" and span.status.status_code == StatusCode.OK
    assert span.kind == SpanKind.SERVER
    [link] = span.links
    assert (format(link.context.trace_id, "032x"), format(link.context.span_id, "016x")) == (
        CALLER_TRACE,
        CALLER_SPAN,
    )
    assert link.attributes["dpl.core.foreign_operation.entity"] == "urn:nl:oin:" + "0" * 19 + "1"
    assert span.attributes["dpl.core.processing_activity_id"] == (
        "https://gw/api/v1/processing-activities/gateway.consent_registry"
    )
    assert span.attributes["dpl.core.data_subject_id_type"] == "audit_pseudonym"
    assert "child" not in str(dict(span.attributes))
    assert span.start_time <= span.end_time
    assert span.resource.attributes["service.name"] == "thuiszitterspact-gateway"
