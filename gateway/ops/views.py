"""``/`` (to the web interface), ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, redirect, request, url_for

from .. import metrics
from ..errors import problem
from ..services import services
from . import readiness

bp = Blueprint("ops", __name__)


@bp.get("/")
def root():
    """A person who opens the gateway's address lands on the Dutch web interface (which sends
    them to log in first), not on an API 404."""
    return redirect(url_for("web.dashboard"), 302)


@bp.get("/healthz")
def healthz():
    """The process is alive (answers without touching the database)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to serve: load balancers take the replica out while this answers 503."""
    state = readiness.check(services().db, services().keys)
    if not state.ready:
        return problem(503, "not_ready", "; ".join(state.reasons()), headers={"Retry-After": "5"})
    return jsonify(status="ready", database="ok", schema="current", keys="loaded")


@bp.get("/metrics")
def prometheus_metrics():
    """Prometheus exposition; guarded by ``GATEWAY_METRICS_TOKEN`` when it is set."""
    token = services().settings.metrics_token
    if token:
        supplied = request.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(supplied.encode(), expected.encode()):
            return problem(
                401,
                "missing_token" if not supplied else "invalid_token",
                "Send the metrics token as a Bearer token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
    _refresh_pact_gauges()
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)


def _refresh_pact_gauges() -> None:
    """The pact's escalation gauges from the database at scrape time: the daily run may run
    in a pod of its own (a CronJob) whose gauges never reach this process. With the database
    down the last values stay, and the scrape still answers (it is how an outage is seen)."""
    services().pact_escalations.refresh_gauges()
