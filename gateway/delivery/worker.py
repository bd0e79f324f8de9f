"""The ``gateway worker`` loop: claim due messages, push them, record the outcome.

A claimed batch is pushed concurrently (one long-lived thread per row, each with its own
keep-alive connections), so every row of a batch is in flight within its lease, whatever the
batch size; the batch's outcomes are then recorded in one transaction (see
:meth:`Outbox.settle`). Only the loop's thread touches the database.

SIGTERM (and SIGINT) stop the loop gracefully: no new batch is claimed, pushes in flight
finish (their timeouts bound the wait) and are recorded, and a row whose push had not started
yet is released, due again at once. Database trouble does not end the process: the batch is
abandoned (its leases run out, the rows come back) and the loop tries again after the poll
interval.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from sqlalchemy.exc import SQLAlchemyError

from pseudonymise.errors import PseudonymiseError

from .. import metrics, telemetry
from ..clock import Clock, aware, system_clock
from ..config import Settings
from ..exchange.items import inbox_item
from ..logboek.exporter import ExportPolicy, LogboekExporter
from ..registry import rules
from ..sealing import Sealer
from . import address, item
from .backoff import retry_delay
from .outbox import Claim, Outbox, Outcome
from .push import Pusher, PushOutcome
from .signing import DeliverySigner

log = logging.getLogger("gateway.delivery")

LEASE_MARGIN_SECONDS = 5
PENDING_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class DeliveryPolicy:
    """Attempts, backoff and timeouts (``GATEWAY_DELIVERY_*``)."""

    max_attempts: int = 10
    backoff_seconds: float = 5
    timeout_seconds: float = 10
    production: bool = False
    logboek: ExportPolicy | None = None
    """Where the Logboek Dataverwerkingen records go (``GATEWAY_LOGBOEK_*``): the worker runs
    their exporter on a thread of its own; None or no endpoint: none."""
    tracing_endpoint: str | None = None
    """``GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT``: the operators' push spans (off when None)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            max_attempts=settings.delivery_max_attempts,
            backoff_seconds=settings.delivery_backoff_seconds,
            timeout_seconds=settings.delivery_timeout_seconds,
            production=settings.is_production,
            logboek=ExportPolicy.from_settings(settings),
            tracing_endpoint=settings.otel_exporter_endpoint,
        )

    @property
    def lease(self) -> timedelta:
        """Long enough for a connect and a read timeout and the bookkeeping around them."""
        return timedelta(seconds=2 * self.timeout_seconds + LEASE_MARGIN_SECONDS)


class DeliveryWorker:
    """Drains the outbox; :meth:`run_once` is one batch, :meth:`run` the loop."""

    heartbeat = None
    """Called at the top of every turn of :meth:`run` (``gateway worker --heartbeat-file``):
    the liveness probe fails when a turn stops coming round, i.e. the worker is stuck."""

    resolver = None
    """How host names are resolved for the production address check: None is
    ``socket.getaddrinfo`` (looked up at each call)."""

    def __init__(
        self,
        outbox: Outbox,
        sealer: Sealer,
        signer: DeliverySigner,
        pusher: Pusher,
        policy: DeliveryPolicy,
        clock: Clock = system_clock,
    ) -> None:
        self.outbox = outbox
        self.sealer = sealer
        self.signer = signer
        self.pusher = pusher
        self.policy = policy
        self.clock = clock
        self.stopping = threading.Event()
        self._pending_at = 0.0
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        if policy.tracing_endpoint and not telemetry.tracing().enabled:
            service = policy.logboek.service_name if policy.logboek else "thuiszitterspact-gateway"
            telemetry.configure(telemetry.Tracing(policy.tracing_endpoint, service))
        self.logboek = (
            LogboekExporter(outbox.db, policy.logboek)
            if policy.logboek is not None and policy.logboek.endpoint
            else None
        )
        """The Logboek's exporter: its loop beside this one (:meth:`run`), so a Logboek that
        is away slows no push and no send."""

    def stop(self, *_signal) -> None:
        """Finish what is in flight, start nothing new (a signal handler)."""
        self.stopping.set()

    # one batch ---------------------------------------------------------------------------
    def run_once(self, batch: int = 8) -> int:
        """Claim up to ``batch`` due rows, push them, record the outcomes; return how many
        rows were claimed."""
        claims = self.outbox.claim(batch, self.clock(), self.policy.lease)
        if len(claims) == 1:
            self._record([self._try(claims[0])])
        elif claims:
            self._record(list(self._threads(batch).map(self._try, claims)))
        return len(claims)

    def _threads(self, size: int) -> ThreadPoolExecutor:
        """Threads that live as long as the worker, so their keep-alive connections do."""
        if self._pool is None or self._pool_size < size:
            if self._pool is not None:
                self._pool.shutdown()
            self._pool = ThreadPoolExecutor(size, thread_name_prefix="push")
            self._pool_size = size
        return self._pool

    def close(self) -> None:
        """Release threads and connections (after :meth:`run`); flush the push spans."""
        telemetry.tracing().shutdown()
        if self.logboek is not None:
            self.logboek.stop()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.pusher.close()

    def _try(self, claim: Claim) -> tuple[Claim, PushOutcome | None, float]:
        if self.stopping.is_set():
            return claim, None, 0.0  # not started: released
        started = time.perf_counter()
        pushed = self.attempt(claim)
        return claim, pushed, time.perf_counter() - started

    def _outcome(self, claim: Claim, pushed: PushOutcome | None, now) -> Outcome:
        if pushed is None:
            return Outcome(claim, "released")
        if pushed.delivered:
            return Outcome(claim, "delivered", trace=pushed.trace)
        attempts = claim.attempts + 1
        error = pushed.error or "error"
        if attempts >= self.policy.max_attempts:
            return Outcome(claim, "dead_lettered", error, trace=pushed.trace)
        delay = retry_delay(attempts, self.policy.backoff_seconds)
        return Outcome(claim, "failed", error, now + timedelta(seconds=delay), pushed.trace)

    def _record(self, tried: list[tuple[Claim, PushOutcome | None, float]]) -> None:
        now = self.clock()
        outcomes = [self._outcome(claim, pushed, now) for claim, pushed, _ in tried]
        changed = self.outbox.settle(outcomes, now)
        for (claim, pushed, elapsed), outcome, done in zip(tried, outcomes, changed, strict=True):
            if pushed is None:
                continue
            result = outcome.result
            if result == "dead_lettered" and not done:
                result = "failed"  # the lease was lost: the row's newer holder decides
            metrics.DELIVERIES.labels(result).inc()
            metrics.DELIVERY_ATTEMPT_DURATION.labels(result).observe(elapsed)
            if result == "delivered":
                waited = (now - aware(claim.created_at)).total_seconds()
                metrics.DELIVERY_LATENCY.observe(max(0.0, waited))
            log.log(
                logging.INFO if result == "delivered" else logging.WARNING,
                "push %s",
                result,
                extra={
                    "exchange_id": claim.id,
                    "recipient": claim.recipient_oin,
                    "attempt": claim.attempts + 1,
                    "result": result,
                    "error": pushed.error,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )

    def attempt(self, claim: Claim) -> PushOutcome:
        """Open, sign and POST one message in a trace of the gateway's own for this recipient
        (its ``traceparent`` goes with the push; the sender's trace never does: API.md
        section 13); every failure becomes an outcome, not a raise."""
        trace = telemetry.Trace()
        with telemetry.using(trace), telemetry.span("delivery.push", kind="client"):
            return dataclasses.replace(self._attempt(claim, trace), trace=trace)

    def _attempt(self, claim: Claim, trace: telemetry.Trace) -> PushOutcome:
        problem = rules.delivery_url_problem(claim.delivery_url, production=self.policy.production)
        if problem:
            return PushOutcome(False, "delivery_url refused")
        destination = None
        if self.policy.production:
            try:  # resolved once, checked, and connected to as checked (no DNS rebinding)
                destination = address.pin(claim.delivery_url, self.resolver)
            except address.AddressRefused as exc:
                return PushOutcome(False, exc.reason)
        if claim.ciphertext is None:
            return PushOutcome(False, "payload erased")
        try:
            content = self.sealer.open(claim.id, claim.key_version, claim.ciphertext)
        except (InvalidTag, KeyError, ValueError, PseudonymiseError) as exc:
            return PushOutcome(False, f"payload unreadable ({type(exc).__name__})")
        body = item.encode(inbox_item(claim, claim.sender, content))
        signature = self.signer.sign(body, claim.recipient_oin)
        return self.pusher.push(
            claim.delivery_url,
            body,
            signature,
            claim.fsc_transaction_id,
            destination,
            traceparent=trace.traceparent(),
        )

    # the loop ----------------------------------------------------------------------------
    def run(self, batch: int = 8, poll: float = 1.0, once: bool = False) -> None:
        """Deliver until stopped; with ``once``, until nothing is due."""
        log.info(
            "worker ready",
            extra={
                "batch": batch,
                "poll_seconds": poll,
                "max_attempts": self.policy.max_attempts,
                "timeout_seconds": self.policy.timeout_seconds,
            },
        )
        if self.logboek is not None and not once:
            self.logboek.start()
        while not self.stopping.is_set():
            if self.heartbeat is not None:
                self.heartbeat()
            try:
                claimed = self.run_once(batch)
                self._update_pending(force=not claimed)
            except SQLAlchemyError as exc:
                log.warning("outbox unavailable", extra={"error": type(exc).__name__})
                claimed = 0
                if once:
                    raise
            if once and not claimed:
                if self.logboek is not None:
                    self.logboek.drain()
                return
            if not claimed:
                self.stopping.wait(poll)

    def _update_pending(self, force: bool = False) -> None:
        moment = time.monotonic()
        if force or moment - self._pending_at >= PENDING_EVERY_SECONDS:
            metrics.OUTBOX_PENDING.set(self.outbox.pending())
            self._pending_at = moment
