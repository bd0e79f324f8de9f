"""Sending the Logboek outbox to the Logboek: OTLP/HTTP (protobuf) with the OpenTelemetry SDK.

Each outbox row becomes one OTLP span (the standard's record; field by field in
:func:`to_span`), sent with the SDK's ``OTLPSpanExporter`` to ``GATEWAY_LOGBOEK_OTLP_ENDPOINT``.
A row is deleted only after the Logboek confirmed its batch (a 2xx answer: the standard's
"het Logboek MOET het wegschrijven van elke logregel bevestigen"); a batch that fails stays,
and the loop backs off (``GATEWAY_LOGBOEK_BACKOFF_SECONDS``, doubling to
``MAX_BACKOFF_SECONDS``) and sends it again. The loop runs in the delivery worker's process on
a thread of its own (:class:`gateway.delivery.worker.DeliveryWorker`), never in a request: a
send only inserts its row, whatever the Logboek's state. ``gateway_logboek_backlog`` is the
number of rows not yet confirmed.

On PostgreSQL a batch is locked ``FOR UPDATE SKIP LOCKED`` while it is sent, so several
workers never send one row twice; SQLite (one node) reads the batch without a lock, because
holding its single write lock over an HTTP call would block every send.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from prometheus_client import Counter, Gauge
from sqlalchemy import delete, func, select, update

from ..version import package_version
from .models import LogboekRecordRow

log = logging.getLogger("gateway.logboek")

BACKLOG = Gauge(
    "gateway_logboek_backlog",
    "Logboek Dataverwerkingen records written but not yet confirmed by the Logboek.",
    multiprocess_mode="mostrecent",
)
EXPORTS = Counter(
    "gateway_logboek_exports_total", "Batches sent to the Logboek, by result.", ["result"]
)
MAX_BACKOFF_SECONDS = 300.0
SCOPE = "gateway.logboek"

PROCESSING_ACTIVITY = "dpl.core.processing_activity_id"
DATA_SUBJECT = "dpl.core.data_subject_id"
DATA_SUBJECT_TYPE = "dpl.core.data_subject_id_type"
FOREIGN_TRACE = "dpl.core.foreign_operation.trace_id"
FOREIGN_SPAN = "dpl.core.foreign_operation.span_id"
FOREIGN_ENTITY = "dpl.core.foreign_operation.entity"
DECISION = "dpl.gateway.decision"
REASON = "dpl.gateway.reason"
AUDIT_SEQ = "dpl.gateway.audit_seq"


@dataclass(frozen=True)
class ExportPolicy:
    """``GATEWAY_LOGBOEK_*``: where to, how many per batch, how long to wait."""

    endpoint: str | None = None
    batch: int = 100
    backoff_seconds: float = 5.0
    timeout_seconds: float = 10.0
    poll_seconds: float = 1.0
    service_name: str = "thuiszitterspact-gateway"

    @classmethod
    def from_settings(cls, settings) -> ExportPolicy:
        return cls(
            endpoint=settings.logboek_otlp_endpoint,
            batch=settings.logboek_batch,
            backoff_seconds=settings.logboek_backoff_seconds,
            timeout_seconds=settings.logboek_timeout_seconds,
            service_name=settings.otel_service_name,
        )


def resource(service_name: str):
    from opentelemetry.sdk.resources import Resource

    return Resource.create({"service.name": service_name, "service.version": package_version()})


def to_span(row: LogboekRecordRow, owner, scope=None):
    """One record as an OTLP span: ``trace_id``, ``span_id`` (the standard's
    ``operation_id``), ``parent_span_id``, ``name``, start and end, ``status``, ``resource``;
    ``foreign_operation`` both as a span link (its ids, with the entity as the link's
    attribute) and as ``dpl.core.foreign_operation.*`` attributes, so a Logboek that reads
    only attributes finds it too; the ``dpl.core.*`` attributes; and the gateway's own
    ``dpl.gateway.decision``/``reason`` (a refusal's code) and ``audit_seq`` (its event)."""
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

    sampled = TraceFlags(TraceFlags.SAMPLED)
    trace_id = int(row.trace_id, 16)
    context = SpanContext(trace_id, int(row.span_id, 16), False, sampled)
    parent = (
        SpanContext(trace_id, int(row.parent_span_id, 16), False, sampled)
        if row.parent_span_id
        else None
    )
    attributes = {
        PROCESSING_ACTIVITY: row.activity,
        DATA_SUBJECT: row.subject,
        DATA_SUBJECT_TYPE: row.subject_type,
        FOREIGN_TRACE: row.foreign_trace_id,
        FOREIGN_SPAN: row.foreign_span_id,
        FOREIGN_ENTITY: row.foreign_entity,
        DECISION: row.decision,
        REASON: row.reason,
        AUDIT_SEQ: row.audit_seq,
    }
    links = []
    if row.foreign_trace_id and row.foreign_span_id:
        foreign = SpanContext(
            int(row.foreign_trace_id, 16), int(row.foreign_span_id, 16), True, sampled
        )
        links.append(Link(foreign, {FOREIGN_ENTITY: row.foreign_entity or ""}))
    status = {
        "ok": Status(StatusCode.OK),
        "error": Status(StatusCode.ERROR, row.reason or "server_error"),
    }.get(row.status, Status(StatusCode.UNSET))
    return ReadableSpan(
        name=row.name,
        context=context,
        parent=parent,
        resource=owner,
        attributes={k: v for k, v in attributes.items() if v is not None},
        links=links,
        kind=SpanKind.SERVER if links else SpanKind.INTERNAL,
        status=status,
        start_time=row.start_ns,
        end_time=row.end_ns,
        instrumentation_scope=scope or InstrumentationScope(SCOPE, package_version()),
    )


class LogboekExporter:
    """The outbox's sender: :meth:`run_once` one batch, :meth:`run` the loop (a thread)."""

    def __init__(self, db, policy: ExportPolicy, exporter=None, clock=time.monotonic) -> None:
        self.db = db
        self.policy = policy
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=policy.endpoint, timeout=policy.timeout_seconds)
        self.exporter = exporter
        self.owner = resource(policy.service_name)
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope

        self.scope = InstrumentationScope(SCOPE, package_version())
        self.clock = clock
        self.failures = 0
        self.next_at = 0.0
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # one batch ---------------------------------------------------------------------------
    def run_once(self) -> int:
        """Send one batch if one is due and the backoff allows; the rows confirmed."""
        if self.clock() < self.next_at:
            return 0
        if self.db.is_sqlite:
            with self.db.session() as session:
                rows = list(session.scalars(self._batch()))
            if not rows:
                return 0
            confirmed = self._send(rows)
            with self.db.write_session() as session:
                self._settle(session, rows, confirmed)
        else:
            with self.db.session() as session:
                rows = list(session.scalars(self._batch().with_for_update(skip_locked=True)))
                if not rows:
                    return 0
                confirmed = self._send(rows)
                self._settle(session, rows, confirmed)
        return len(rows) if confirmed else 0

    def _batch(self):
        return select(LogboekRecordRow).order_by(LogboekRecordRow.id).limit(self.policy.batch)

    def _send(self, rows: list[LogboekRecordRow]) -> bool:
        from opentelemetry.sdk.trace.export import SpanExportResult

        try:
            result = self.exporter.export([to_span(row, self.owner, self.scope) for row in rows])
        except Exception as exc:  # noqa: BLE001 - any failure keeps the batch for later
            log.warning("logboek export failed", extra={"error": type(exc).__name__})
            result = None
        confirmed = result == SpanExportResult.SUCCESS
        EXPORTS.labels("confirmed" if confirmed else "failed").inc()
        if confirmed:
            self.failures = 0
            self.next_at = 0.0
        else:
            self.failures += 1
            delay = min(self.policy.backoff_seconds * 2 ** (self.failures - 1), MAX_BACKOFF_SECONDS)
            self.next_at = self.clock() + delay
            log.warning(
                "logboek did not confirm",
                extra={"records": len(rows), "failures": self.failures, "retry_in_s": delay},
            )
        return confirmed

    @staticmethod
    def _settle(session, rows: list[LogboekRecordRow], confirmed: bool) -> None:
        ids = [row.id for row in rows]
        if confirmed:
            session.execute(delete(LogboekRecordRow).where(LogboekRecordRow.id.in_(ids)))
        else:
            session.execute(
                update(LogboekRecordRow)
                .where(LogboekRecordRow.id.in_(ids))
                .values(attempts=LogboekRecordRow.attempts + 1)
            )

    def backlog(self) -> int:
        with self.db.session() as session:
            count = session.scalar(select(func.count()).select_from(LogboekRecordRow)) or 0
        BACKLOG.set(count)
        return count

    def drain(self, deadline_seconds: float = 30.0) -> int:
        """Send until nothing is left or the Logboek stops confirming (``worker --once``)."""
        sent = 0
        ends = time.monotonic() + deadline_seconds
        while time.monotonic() < ends:
            done = self.run_once()
            if not done:
                break
            sent += done
        self.backlog()
        return sent

    # the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                sent = self.run_once()
                self.backlog()
            except Exception as exc:  # noqa: BLE001 - the loop outlives database trouble
                log.warning("logboek outbox unavailable", extra={"error": type(exc).__name__})
                sent = 0
            if not sent:
                self.stopping.wait(self.policy.poll_seconds)

    def start(self) -> None:
        """The loop on a daemon thread of its own (beside the delivery worker's loop)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="logboek", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.policy.timeout_seconds + 5)
            self._thread = None
        self.exporter.shutdown()
