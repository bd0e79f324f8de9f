"""Cross-cutting HTTP behaviour: headers every response carries and per-request metrics."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, g, request

from . import metrics, transaction
from .version import API_VERSION

access_log = logging.getLogger("gateway.access")

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
    raw = request.headers.get(transaction.HEADER)
    parsed = transaction.parse(raw)
    g.fsc_transaction_id_valid = raw is None or parsed is not None
    g.fsc_transaction_id = parsed or transaction.new()


def _after(response: Response) -> Response:
    response.headers["API-Version"] = API_VERSION
    response.headers[transaction.HEADER] = getattr(g, "fsc_transaction_id", None) or (
        transaction.new()
    )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.extensions["gateway"].settings.is_production:
        # production is https only (startup refuses an http base URL): browsers must not
        # fall back to http for the session cookie's site (RFC 6797)
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith(("/api/", "/oauth/")):
        response.headers.setdefault("Cache-Control", "no-store")
    started = getattr(g, "started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - started
        metrics.REQUEST_DURATION.labels(rule, request.method, str(response.status_code)).observe(
            elapsed
        )
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
            "method": request.method,
            "route": rule,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            "org": getattr(caller, "org_oin", None),
            "client_id": getattr(caller, "client_id", None),
            "decision": "refused" if response.status_code >= 400 else "allowed",
            "code": code,
        },
    )


def register(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
