"""``gateway worker`` and ``gateway outbox list|retry``: push delivery (API.md section 4).

Run as many workers as needed beside the web processes, on the same database; on PostgreSQL
they share the outbox through ``FOR UPDATE SKIP LOCKED``. Their metrics reach ``/metrics``
when they share the web processes' ``PROMETHEUS_MULTIPROC_DIR``, or, for a worker in a pod
of its own (deploy/kubernetes/worker-deployment.yaml), on ``--metrics-port`` behind the same
bearer token (``GATEWAY_METRICS_TOKEN``).

Liveness: with ``--heartbeat-file`` the loop touches that file on every turn, and
``gateway worker --check-heartbeat --max-age N`` (an exec probe) exits non-zero when it is
older than N seconds. A turn takes at most a batch's lease (2 x
``GATEWAY_DELIVERY_TIMEOUT_SECONDS`` + 5 s) plus ``--poll``; N must exceed that. A database
outage does not stop the turns (the loop waits and retries), so it restarts nothing.
"""

from __future__ import annotations

import hmac
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click

from ..clock import system_clock
from ..config import Settings
from . import context


def _bounded(name: str, default: float, kind: click.ParamType, help_text: str):
    """An option with a range and a default that ``--help`` shows."""
    return click.option(name, default=default, show_default=True, type=kind, help=help_text)


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@_bounded(
    "--batch", 8, click.IntRange(1, 64), "Rows claimed (and pushed concurrently) per round."
)
@_bounded("--poll", 1.0, click.FloatRange(0.05, 3600), "Seconds to wait when nothing is due.")
@click.option(
    "--heartbeat-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Touch this file on every turn of the loop (for --check-heartbeat).",
)
@click.option(
    "--check-heartbeat",
    is_flag=True,
    help="Do not deliver: exit 0 when --heartbeat-file is fresh, 1 otherwise (a probe).",
)
@_bounded(
    "--max-age",
    60,
    click.IntRange(1, 86400),
    "With --check-heartbeat: seconds after which the heartbeat counts as stale.",
)
@click.option(
    "--metrics-port",
    default=None,
    type=click.IntRange(1, 65535),
    help="Serve /metrics on this port (bearer GATEWAY_METRICS_TOKEN), for a worker pod.",
)
def worker(
    once: bool,
    batch: int,
    poll: float,
    heartbeat_file: Path | None,
    check_heartbeat: bool,
    max_age: int,
    metrics_port: int | None,
) -> None:
    """Push accepted messages to recipients with a delivery URL."""
    if check_heartbeat:
        if heartbeat_file is None:
            raise click.UsageError("--check-heartbeat needs --heartbeat-file")
        problem = Heartbeat(heartbeat_file).problem(max_age)
        if problem:
            raise click.ClickException(problem)
        return
    from .. import logs, metrics

    current = context.settings()
    logs.configure(current.log_level)
    delivery_worker = build_worker(current)
    if heartbeat_file is not None:
        beating = Heartbeat(heartbeat_file)
        beating.start()
        delivery_worker.heartbeat = beating.beat
    server = serve_metrics(metrics_port, current) if metrics_port else None
    signal.signal(signal.SIGTERM, delivery_worker.stop)
    signal.signal(signal.SIGINT, delivery_worker.stop)
    try:
        delivery_worker.run(batch=batch, poll=poll, once=once)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        delivery_worker.close()
        delivery_worker.outbox.db.dispose()
        metrics.mark_process_dead(os.getpid())


class Heartbeat:
    """A file whose modification time is the worker loop's last turn."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def start(self) -> None:
        """Forget a predecessor's heartbeat (``/tmp`` outlives a container restart)."""
        self.path.unlink(missing_ok=True)

    def beat(self) -> None:
        self.path.touch()
        os.utime(self.path, None)

    def problem(self, max_age: int) -> str | None:
        """Why the worker counts as stuck, or None when the heartbeat is fresh."""
        try:
            age = time.time() - self.path.stat().st_mtime
        except OSError:
            return f"no heartbeat at {self.path}: the worker loop has not run"
        if age > max_age:
            return (
                f"stale heartbeat: the worker loop last turned {int(age)} s ago "
                f"(more than {max_age} s); it is stuck"
            )
        return None


def serve_metrics(port: int, current: Settings) -> ThreadingHTTPServer:
    """``GET /metrics`` (this process's metrics) on ``port``, in a daemon thread.

    The same bearer token as the API's ``/metrics``; production without one refuses to
    start rather than publish delivery counts to anyone on the pod network.
    """
    from .. import metrics

    token = current.metrics_token
    if token is None and current.is_production:
        raise click.ClickException("GATEWAY_METRICS_TOKEN must be set for --metrics-port")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404)
                return
            sent = self.headers.get("Authorization", "")
            if token is not None and not hmac.compare_digest(
                sent.encode("utf-8", "replace"), f"Bearer {token}".encode()
            ):
                self.send_error(401)
                return
            body, content_type = metrics.exposition()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass  # no access log lines: the scrape interval would fill the log

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)  # noqa: S104 - a pod's port
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def build_worker(current: Settings):
    """A worker over the configured database and keys; refuses unsafe settings."""
    from ..delivery.outbox import Outbox
    from ..delivery.push import Pusher
    from ..delivery.signing import DeliverySigner
    from ..delivery.worker import DeliveryPolicy, DeliveryWorker

    for name, path in (
        ("GATEWAY_DELIVERY_CLIENT_CERT", current.delivery_client_cert),
        ("GATEWAY_DELIVERY_CLIENT_KEY", current.delivery_client_key),
    ):
        if path is not None and not path.is_file():
            raise click.ClickException(f"{name}: no file {path}")
    keys = context.keystore(current)
    db = context.database(current)
    core = context.services(current)
    # the worker appends deliveries and dead letters with the process's one audit log, which
    # signs checkpoints like the API does
    return DeliveryWorker(
        Outbox(db, core.audit_log),
        core.message_sealer,
        DeliverySigner(keys),
        Pusher(
            current.delivery_timeout_seconds,
            current.delivery_client_cert,
            current.delivery_client_key,
        ),
        DeliveryPolicy.from_settings(current),
        system_clock,
    )


@click.group("outbox")
def outbox_group() -> None:
    """Messages waiting for push delivery, and dead letters."""


def _admin():
    from ..delivery.replay import OutboxAdmin

    current = context.settings()
    return OutboxAdmin(context.database(current), context.services(current).audit_log)


@outbox_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["accepted", "dead_lettered", "delivered", "acknowledged"]),
    default=None,
    help="Only this status (default: accepted and dead_lettered).",
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def outbox_list(status: str | None, limit: int, as_json: bool) -> None:
    """Undelivered messages (metadata only, never payload)."""
    rows = _admin().list(status, limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['id']}  {row['status']:<13} {row['recipient']}  {row['message_type']:<26} "
            f"attempts={row['attempts']} next={row['next_attempt_at'] or '-'} "
            f"error={row['last_error'] or '-'}"
        )


@outbox_group.command("retry")
@click.option("--id", "message_id", default=None, help="The exchange id to deliver again.")
@click.option("--all-dead", is_flag=True, help="Every dead-lettered message.")
def outbox_retry(message_id: str | None, all_dead: bool) -> None:
    """Queue dead letters for delivery again (attempts start over; audited)."""
    from ..delivery.errors import DeliveryError

    if bool(message_id) == all_dead:
        raise click.UsageError("give exactly one of --id and --all-dead")
    admin = _admin()
    if all_dead:
        queued, skipped = admin.retry_dead_letters(system_clock())
        click.echo(f"queued {queued} dead letter(s) again")
        if skipped:
            click.echo(f"skipped {skipped} whose payload was erased (retention)")
        return
    try:
        admin.retry(message_id, system_clock())
    except DeliveryError as exc:
        raise click.ClickException(f"{exc} ({exc.code})") from None
    click.echo(f"queued {message_id} again")
