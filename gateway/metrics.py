"""All Prometheus metrics of the gateway, in one module.

Under gunicorn several worker processes serve requests; prometheus-client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, set by ``gateway run`` before any import of prometheus_client)
lets ``/metrics`` sum them. Labels never carry an identifier of a child or free text: only
enumerations (message type, organisation type, decision, code, endpoint rule).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUEST_DURATION = Histogram(
    "gateway_request_duration_seconds",
    "Time to answer an HTTP request, by route rule (never the raw path).",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# The HTTP method is the one request label a caller writes itself, before any authentication:
# every invented method would be a new series (about 4 KB of multiprocess files each).
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """``method`` when it is a standard one the gateway may route, otherwise ``other``."""
    return method if method in HTTP_METHODS else "other"


EXCHANGES = Counter(
    "gateway_exchanges_total",
    "Exchange requests by outcome.",
    ["message_type", "sender_type", "recipient_type", "decision", "code"],
)

AUTH_FAILURES = Counter(
    "gateway_auth_failures_total",
    "Failed authentications by method (client auth method, bearer or saml) and error code.",
    ["method", "error"],
)

TOKENS_ISSUED = Counter(
    "gateway_tokens_issued_total",
    "Access tokens issued, by client authentication method.",
    ["method"],
)

CONSENT_CHECKS = Counter("gateway_consent_checks_total", "Consent checks by result.", ["result"])

OUTBOX_PENDING = Gauge(
    "gateway_outbox_pending",
    "Messages waiting for push delivery.",
    multiprocess_mode="livemax",
)

DELIVERIES = Counter("gateway_deliveries_total", "Push delivery attempts by result.", ["result"])
DELIVERY_RESULTS = ("delivered", "failed", "dead_lettered")

DELIVERY_ATTEMPT_DURATION = Histogram(
    "gateway_delivery_attempt_duration_seconds",
    "Time of one push HTTP request to a recipient, by result (delivered|failed|dead_lettered).",
    ["result"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

DELIVERY_LATENCY = Histogram(
    "gateway_delivery_latency_seconds",
    "Time from acceptance of a message to its successful push delivery.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0),
)

PSEUDONYMISATIONS = Counter(
    "gateway_pseudonymisations_total",
    "Pseudonyms issued or resolved, by domain kind (organisation, audit, consent, match; "
    "polymorphic with operation verify or transcrypt).",
    ["domain_kind", "operation"],
)

BUILD_INFO = Gauge(
    "gateway_build_info",
    "Always 1; the labels name the running version.",
    ["version", "api_version"],
    multiprocess_mode="max",
)

SIGNAL_PROBES = Counter(
    "gateway_signal_probes_total",
    "Signals closed with no exchange about that child sent or received by the signalling "
    "organisation since they were opened: possible probes of who is involved with a child "
    "(API.md section 13 rule 5), by organisation type.",
    ["org_type"],
)

# The pact's escalations and reminders (issue 20, docs/pact-workflows.md 5.4). Labels are
# configuration (region codes) and enumerations, never a child. The gauges are read from the
# database by whoever last changed an escalation (the daily `gateway pact run`, a placement
# report); the newest value wins across processes sharing PROMETHEUS_MULTIPROC_DIR.
PACT_ESCALATIONS = Counter(
    "gateway_pact_escalations_total",
    "Escalations to the holder of doorzettingsmacht, by region and event (opened|closed).",
    ["region", "event"],
)

PACT_ESCALATIONS_OPEN = Gauge(
    "gateway_pact_escalations_open",
    "Open escalations, by region.",
    ["region"],
    multiprocess_mode="mostrecent",
)

PACT_ESCALATIONS_UNDELIVERED = Gauge(
    "gateway_pact_escalations_undelivered",
    "Open escalations not yet delivered to their holder (suspended when it fired).",
    multiprocess_mode="mostrecent",
)

PACT_ESCALATIONS_UNCONFIGURED = Counter(
    "gateway_pact_escalations_unconfigured_total",
    "Homebound children past a norm whose reporter has no region with an escalation "
    "recipient (nothing escalated; the log names the reporter's OIN).",
)

PACT_REMINDERS = Counter(
    "gateway_pact_reminders_total",
    "Case reminders sent, by reminder (due_today|overdue|party_suspended|review_due).",
    ["reminder"],
)

AUDIT_ENTRIES = Counter("gateway_audit_entries_total", "Audit events appended.")

AUDIT_CHAIN_VALID = Gauge(
    "gateway_audit_chain_valid",
    "1 when the last verification of the audit chain succeeded, 0 when it failed; under "
    "gunicorn absent until the first verification (read it with the verification timestamp).",
    multiprocess_mode="mostrecent",
)

AUDIT_LAST_VERIFICATION = Gauge(
    "gateway_audit_last_verification_timestamp_seconds",
    "Unix time of the last verification (or detected break) of the audit chain; 0 = never.",
    multiprocess_mode="max",
)


def record_chain_state(valid: bool) -> None:
    """Publish a verification's outcome; the newest outcome wins across processes."""
    import time

    AUDIT_CHAIN_VALID.set(1 if valid else 0)
    AUDIT_LAST_VERIFICATION.set(time.time())


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric, summed over worker processes when needed."""
    if multiprocess_enabled():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Called by gunicorn when a worker exits, so its live gauges stop counting."""
    if multiprocess_enabled():
        multiprocess.mark_process_dead(pid)
