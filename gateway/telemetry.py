"""W3C Trace Context for every processing, and the operators' OpenTelemetry tracing.

Two things share one trace per request (or per job: a push, a CLI command):

- the **processing trace** (:class:`Trace`): the gateway's own ``trace_id`` and the request's
  ``span_id``, always on. Each data processing in it gets a span of its own
  (:meth:`Trace.new_span`): its Logboek Dataverwerkingen record (:mod:`gateway.logboek`) and
  its audit event carry that ``trace_id``/``span_id`` (API.md section 8). A caller's
  ``traceparent`` never becomes the gateway's trace: it is kept as the *foreign* operation
  (the Logboek's ``foreign_operation``), so a sender's trace id can never reach a recipient
  through the gateway (API.md section 13); a push carries a trace of the gateway's own.
- the **operators' tracing** (``GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT``, off by default): the
  OpenTelemetry SDK exports request, pipeline step, database and delivery spans over OTLP/HTTP.
  The request span's ids are the processing trace's, so an operator finds a Logboek record's
  spans by its ids. Span attributes are names and codes only, never a BSN, a pseudonym or
  payload: :func:`span` takes no free attributes from callers for that reason.

The current trace lives in a :class:`contextvars.ContextVar`, so the audit log (which writes
the trace members) needs no new argument through every service that appends an event.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
_INVALID_TRACE = "0" * 32
_INVALID_SPAN = "0" * 16
_TRACEPARENT = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?P<rest>-.*)?"
)
MAX_TRACEPARENT = 512


@dataclass(frozen=True)
class Remote:
    """Another party's operation, from its ``traceparent`` (W3C Trace Context level 1)."""

    trace_id: str
    span_id: str


def parse_traceparent(raw: str | None) -> Remote | None:
    """The caller's operation, or None for an absent or invalid header.

    Per W3C Trace Context section 4.3 an invalid ``traceparent`` is ignored and a new trace
    starts (never a 4xx): version ``ff`` is invalid, version ``00`` has exactly four fields,
    a later version may add fields after a ``-``; an all-zero trace or span id is invalid;
    upper-case hex is invalid.
    """
    if raw is None or len(raw) > MAX_TRACEPARENT:
        return None
    match = _TRACEPARENT.fullmatch(raw.strip(" \t"))
    if match is None:
        return None
    version = match["version"]
    if version == "ff" or (version == "00" and match["rest"] is not None):
        return None
    if match["trace"] == _INVALID_TRACE or match["span"] == _INVALID_SPAN:
        return None
    return Remote(match["trace"], match["span"])


def new_trace_id() -> str:
    while (value := secrets.token_hex(16)) == _INVALID_TRACE:  # pragma: no cover - 2**-128
        pass
    return value


def new_span_id() -> str:
    while (value := secrets.token_hex(8)) == _INVALID_SPAN:  # pragma: no cover - 2**-64
        pass
    return value


def now_ns() -> int:
    return time.time_ns()


@dataclass
class Trace:
    """The gateway's trace of one request or job: its own ids, never the caller's."""

    trace_id: str = field(default_factory=new_trace_id)
    span_id: str = field(default_factory=new_span_id)
    """The request's (or job's) span: the parent of each processing's span."""
    foreign: Remote | None = None
    started_ns: int = field(default_factory=now_ns)
    failed: bool = False
    """Set when the request ended in a server error (its processing's records say ERROR)."""
    caller: str | None = None
    """The calling organisation's OIN once authenticated (the ERROR record's ``entity``)."""
    in_request: bool = True
    """False for the trace of a request's second and later processing (:meth:`next`): its
    ``span_id`` is no operator's span, so its records name no parent."""
    processings: int = 0
    processing: str | None = None
    activity: str | None = None
    """What the request is processing, once known (``exchange.send`` and its route's
    activity id): the ERROR record's name and activity when a server error rolls it back."""

    def next(self) -> Trace:
        """The trace of the request's next processing (an audit event and its Logboek record).

        The first processing is in the request's own trace. Each further one (an inbox pull
        delivering messages of several senders, a batch of case actions) gets a trace of its
        own, with the same caller's operation: audit events are read by partners, and one
        trace id in the events of two partners would tell each that the other's processing
        came from the same request (API.md section 13)."""
        self.processings += 1
        if self.processings == 1:
            return self
        return Trace(
            foreign=self.foreign,
            started_ns=self.started_ns,
            failed=self.failed,
            caller=self.caller,
            in_request=False,
        )

    def traceparent(self, span_id: str | None = None) -> str:
        """A ``traceparent`` naming this trace (sampled), for a call the gateway makes."""
        return f"00-{self.trace_id}-{span_id or self.span_id}-01"


_current: ContextVar[Trace | None] = ContextVar("gateway_trace", default=None)


def current() -> Trace | None:
    return _current.get()


def current_or_new() -> Trace:
    """The current trace; outside any (a CLI command, a background job) a new one, kept as
    current for the rest of this context: the standard wants a trace for every processing
    of which none is known yet."""
    trace = _current.get()
    if trace is None:
        trace = Trace()
        _current.set(trace)
    return trace


def begin(trace: Trace):
    """Make ``trace`` current; returns the token for :func:`end`."""
    return _current.set(trace)


def end(token) -> None:
    try:
        _current.reset(token)
    except ValueError:  # set in another context (a copied one): just clear
        _current.set(None)


@contextmanager
def using(trace: Trace) -> Iterator[Trace]:
    """``trace`` is current inside the block (a push, one settled delivery)."""
    token = _current.set(trace)
    try:
        yield trace
    finally:
        end(token)


# fault injection (development and tests only) --------------------------------------------
FAULT_HEADER = "Gateway-Test-Fault"
"""Honoured only with ``GATEWAY_TEST_FAULTS=1``, which production refuses to start with: a
request names the point where the gateway must fail with a server error (the Logboek's ERROR
records are tested against a real server with it)."""
FAULT_POINTS = ("exchange.send",)
_fault: ContextVar[str | None] = ContextVar("gateway_fault", default=None)


class InjectedFault(RuntimeError):
    """The server error a test asked for (an unexpected exception: a 500)."""


def request_fault(point: str | None):
    return _fault.set(point if point in FAULT_POINTS else None)


def clear_fault(token) -> None:
    try:
        _fault.reset(token)
    except ValueError:
        _fault.set(None)


def injected_fault(point: str) -> None:
    """Raise here when the current request asked for a fault at ``point``."""
    if _fault.get() == point:
        raise InjectedFault(f"injected fault at {point}")


# operators' tracing (OpenTelemetry SDK) ---------------------------------------------------
SPAN_NAME = re.compile(r"[A-Za-z/][A-Za-z0-9_.\- /{}<>:]*")


@dataclass
class Tracing:
    """The process's tracer provider, built lazily after a fork (gunicorn workers) so each
    process has its own export thread."""

    endpoint: str | None = None
    service_name: str = "thuiszitterspact-gateway"
    service_version: str = ""
    timeout_seconds: float = 10
    _pid: int | None = None
    _tracer: object | None = None
    _provider: object | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.endpoint)

    def tracer(self):
        if not self.enabled:
            return None
        if self._pid != os.getpid():
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            provider = TracerProvider(resource=self.resource())
            provider.add_span_processor(
                BatchSpanProcessor(
                    OTLPSpanExporter(endpoint=self.endpoint, timeout=self.timeout_seconds)
                )
            )
            self._provider = provider
            self._tracer = provider.get_tracer("gateway")
            self._pid = os.getpid()
        return self._tracer

    def resource(self):
        from opentelemetry.sdk.resources import Resource

        return Resource.create(
            {"service.name": self.service_name, "service.version": self.service_version}
        )

    def shutdown(self) -> None:
        if self._provider is not None and self._pid == os.getpid():
            self._provider.shutdown()


_tracing = Tracing()


def configure(tracing: Tracing) -> None:
    """Install the process's operator tracing (the composition root does, from settings)."""
    global _tracing
    _tracing = tracing


def tracing() -> Tracing:
    return _tracing


def start_request_span(name: str, trace: Trace, method: str = "", route: str = ""):
    """Start the operators' request span (a root: the caller's span is only a link) and
    give ``trace`` its ids; returns what :func:`end_request_span` needs, or None."""
    tracer = _tracing.tracer()
    if tracer is None:
        return None
    from opentelemetry import context
    from opentelemetry import trace as otel_trace
    from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags

    links = []
    if trace.foreign is not None:
        remote = SpanContext(
            int(trace.foreign.trace_id, 16),
            int(trace.foreign.span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        links.append(Link(remote))
    # a root span: the trace is the gateway's own, the caller's operation only a link
    span = tracer.start_span(
        _safe_name(name),
        context=context.Context(),
        kind=SpanKind.SERVER,
        links=links,
        # the route rule (``/api/v1/exchanges/<exchange_id>``), never the path with its values
        attributes={"http.request.method": method, "http.route": _safe_name(route)},
    )
    ids = span.get_span_context()
    trace.trace_id = format(ids.trace_id, "032x")
    trace.span_id = format(ids.span_id, "016x")
    token = context.attach(otel_trace.set_span_in_context(span))
    return span, token


def end_request_span(started, status: int) -> None:
    if started is None:
        return
    from opentelemetry import context
    from opentelemetry.trace import Status, StatusCode

    span, token = started
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    span.end()
    context.detach(token)  # the SDK logs (never raises) a detach in another context


def span(name: str, kind: str = "internal"):
    """An operator's span around a block (a pipeline step, a push); a no-op when tracing is
    off. Only the name is recorded: never a value from a request."""
    tracer = _tracing.tracer()
    if tracer is None:
        return nullcontext()
    from opentelemetry.trace import SpanKind

    return tracer.start_as_current_span(
        _safe_name(name), kind=SpanKind.CLIENT if kind == "client" else SpanKind.INTERNAL
    )


def _safe_name(name: str) -> str:
    """Span names come from route rules and code constants; anything else is replaced."""
    return name if SPAN_NAME.fullmatch(name) else "operation"


def instrument_engine(engine) -> None:
    """Database spans (``db <operation>``, the SQL keyword only: no statement text, no
    parameters) for a SQLAlchemy engine; a no-op when tracing is off."""
    if not _tracing.enabled:
        return
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        tracer = _tracing.tracer()
        if tracer is None:
            return
        from opentelemetry.trace import SpanKind

        keyword = (statement.lstrip().split(None, 1) or ["sql"])[0].upper()
        keyword = keyword if keyword.isalpha() else "SQL"
        db_span = tracer.start_span(
            f"db {keyword.lower()}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": engine.dialect.name,
                "db.operation.name": keyword,
            },
        )
        conn.info.setdefault("gateway_spans", []).append(db_span)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        spans = conn.info.get("gateway_spans")
        if spans:
            spans.pop().end()

    @event.listens_for(engine, "handle_error")
    def _error(exception_context):
        conn = exception_context.connection
        spans = conn.info.get("gateway_spans") if conn is not None else None
        if spans:
            from opentelemetry.trace import Status, StatusCode

            failed = spans.pop()
            failed.set_status(Status(StatusCode.ERROR))
            failed.end()
