"""Cross-cutting HTTP behaviour: headers every response carries and per-request metrics."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, g, request

from . import metrics, telemetry, transaction
from .api.request import check_transaction_id
from .services import services
from .version import API_VERSION

access_log = logging.getLogger("gateway.access")
log = logging.getLogger(__name__)

HSTS = "max-age=31536000; includeSubDomains"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


def _before() -> None:
    g.started = time.perf_counter()
    _trace_context()
    raw = request.headers.get(transaction.HEADER)
    parsed = transaction.parse(raw)
    g.fsc_transaction_id_valid = raw is None or parsed is not None
    g.fsc_transaction_id = parsed or transaction.new()
    if not g.fsc_transaction_id_valid and not _checked_by_the_view():
        check_transaction_id()


def _trace_context() -> None:
    """The gateway's own trace for this request (W3C Trace Context; :mod:`gateway.telemetry`).

    A valid ``traceparent`` is kept as the caller's operation (the Logboek's
    ``foreign_operation``), never continued: the trace id is the gateway's, so a sender's id
    cannot reach a recipient (API.md section 13). An invalid one is ignored and a new trace
    starts, as the standard says (no 4xx). ``tracestate`` is vendor data for the caller's own
    trace; the gateway starts its own trace, so it has none to carry on and ignores it.
    """
    trace = telemetry.Trace(foreign=telemetry.parse_traceparent(request.headers.get("traceparent")))
    g.trace_token = telemetry.begin(trace)
    rule = request.url_rule.rule if request.url_rule else "unmatched"
    method = metrics.method_label(request.method)  # caller-chosen text otherwise
    g.request_span = telemetry.start_request_span(f"{method} {rule}", trace, method, rule)
    if services().settings.test_faults:
        g.fault_token = telemetry.request_fault(request.headers.get(telemetry.FAULT_HEADER))


def _teardown(_exc=None) -> None:
    for name, reset in (("fault_token", telemetry.clear_fault), ("trace_token", telemetry.end)):
        token = g.pop(name, None)
        if token is not None:
            reset(token)


def _server_error_record(response: Response) -> None:
    """A request that ended in a server error rolled its processing back (event and record):
    its Logboek record says ERROR, written here in a transaction of its own. Best effort: the
    database may be why it failed."""
    trace = telemetry.current()
    if trace is None or response.status_code < 500 or not request.path.startswith("/api/"):
        return
    trace.failed = True
    caller = g.get("oauth_caller")
    trace.caller = getattr(caller, "org_oin", None)
    rule = request.url_rule.rule if request.url_rule else "unmatched"
    name = trace.processing or f"{metrics.method_label(request.method)} {rule}"
    try:
        current = services()
        with current.db.write_session() as session:
            current.logboek.failed(session, trace, name, trace.activity)
    except Exception as exc:  # noqa: BLE001 - the answer is a 5xx already
        log.warning("no logboek record of a server error", extra={"error": type(exc).__name__})


def _checked_by_the_view() -> bool:
    """Whether a token-protected view checks ``Fsc-Transaction-Id`` itself, in API.md section
    4's order (token, scope, then the header; after the body's checks for a body). Every other
    request (public, web, OAuth, unknown route, OPTIONS) is checked here, before anything else.
    """
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return request.method != "OPTIONS" and getattr(view, "checks_transaction_id", False)


def _after(response: Response) -> Response:
    _server_error_record(response)
    telemetry.end_request_span(g.pop("request_span", None), response.status_code)
    response.headers["API-Version"] = API_VERSION
    response.headers[transaction.HEADER] = getattr(g, "fsc_transaction_id", None) or (
        transaction.new()
    )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # a deprecated query alias was read (gateway.docs.query): RFC 9745 and RFC 8594 tell the
    # caller so and until when, on the answer itself (/core/deprecation-schedule)
    for name, value in g.get("deprecation_headers", {}).items():
        response.headers.setdefault(name, value)
    if services().settings.is_production:
        # production is https only (startup refuses an http base URL): browsers must not
        # fall back to http for the session cookie's site (RFC 6797)
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith(("/api/", "/oauth/", "/.well-known/")):  # ADR security headers
        response.headers.setdefault("Cache-Control", "no-store")
    started = getattr(g, "started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - started
        metrics.REQUEST_DURATION.labels(
            rule, metrics.method_label(request.method), str(response.status_code)
        ).observe(elapsed)
        _access_log(rule, response, elapsed)
    return response


def _access_log(rule: str, response: Response, elapsed: float) -> None:
    """One structured line per request: the route rule (never the raw path or query), the
    caller's organisation and client, the status and, for refusals, the problem code."""
    if request.path in ("/healthz", "/readyz", "/metrics"):
        return
    caller = g.get("oauth_caller")
    code = g.get("problem_code")
    access_log.info(
        "request",
        extra={
            "request_id": g.get("fsc_transaction_id"),
            "method": metrics.method_label(request.method),  # caller-chosen text otherwise
            "route": rule,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            "org": getattr(caller, "org_oin", None),
            "client_id": getattr(caller, "client_id", None),
            "decision": "refused" if response.status_code >= 400 else "allowed",
            "code": code,
        },
    )


# A refused oversized body is read and thrown away up to these bounds before the 413 goes out:
# a client sends its whole body before it reads the answer (requests, curl, every HTTP/1.1
# library), and closing a socket with unread bytes makes the kernel answer them with a reset
# that destroys the 413 on its way. Beyond the bounds the connection closes anyway.
DISCARD_MAX_BYTES = 4 * 256 * 1024
DISCARD_SECONDS = 5.0


class CloseAfterPayloadTooLarge:
    """WSGI middleware: a 413 reads and discards the rest of the body (bounded), then answers
    with ``Connection: close`` and closes the connection.

    The connection cannot be kept: whatever the client sends after the part discarded here
    would be read as its next request. Gunicorn drops an application's hop-by-hop headers, so
    the close is asked of its response object (``force_close``, the method gunicorn itself
    uses); other servers get the header.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        def starting(status: str, headers: list, exc_info=None):
            if status.startswith("413"):
                discard_body(environ)
                server_response = getattr(start_response, "__self__", None)
                force_close = getattr(server_response, "force_close", None)
                if callable(force_close):
                    force_close()
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                headers.append(("Connection", "close"))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, starting)


def discard_body(environ: dict) -> int:
    """Read and drop what is left of the request body, up to the bounds; the bytes read."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return 0
    sock = environ.get("gunicorn.socket")
    previous = sock.gettimeout() if sock is not None else None
    deadline = time.monotonic() + DISCARD_SECONDS
    discarded = 0
    try:
        while discarded < DISCARD_MAX_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if sock is not None:
                sock.settimeout(remaining)
            data = stream.read(min(65536, DISCARD_MAX_BYTES - discarded))
            if not data:
                break
            discarded += len(data)
    except Exception as exc:  # noqa: BLE001 - the connection closes whatever went wrong
        # a timeout, a reset, a malformed chunk (gunicorn's parse errors are no OSErrors)
        log.debug("stopped discarding a refused body: %s", type(exc).__name__)
    finally:
        if sock is not None:
            try:
                sock.settimeout(previous)
            except OSError:
                pass
    return discarded


def register(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
    app.teardown_request(_teardown)
    app.wsgi_app = CloseAfterPayloadTooLarge(app.wsgi_app)
