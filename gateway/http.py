"""Cross-cutting HTTP behaviour: headers every response carries and per-request metrics."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from . import metrics, transaction
from .version import API_VERSION

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
    if request.path.startswith(("/api/", "/oauth/")):
        response.headers.setdefault("Cache-Control", "no-store")
    started = getattr(g, "started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.REQUEST_DURATION.labels(rule, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


def register(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
