"""``gateway worker`` and ``gateway outbox list|retry``: push delivery (API.md section 4).

Run as many workers as needed beside the web processes, on the same database; on PostgreSQL
they share the outbox through ``FOR UPDATE SKIP LOCKED``. Their metrics reach ``/metrics``
when they share the web processes' ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import json
import os
import signal

import click

from ..clock import system_clock
from ..config import Settings
from . import context


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--batch",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Rows claimed (and pushed concurrently) per round.",
)
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05, 3600),
    help="Seconds to wait when nothing is due.",
)
def worker(once: bool, batch: int, poll: float) -> None:
    """Push accepted messages to recipients with a delivery URL."""
    from .. import logs, metrics

    current = context.settings()
    logs.configure(current.log_level)
    delivery_worker = build_worker(current)
    signal.signal(signal.SIGTERM, delivery_worker.stop)
    signal.signal(signal.SIGINT, delivery_worker.stop)
    try:
        delivery_worker.run(batch=batch, poll=poll, once=once)
    finally:
        delivery_worker.close()
        delivery_worker.outbox.db.dispose()
        metrics.mark_process_dead(os.getpid())


def build_worker(current: Settings):
    """A worker over the configured database and keys; refuses unsafe settings."""
    from ..audit.log import AuditLog
    from ..delivery.outbox import Outbox
    from ..delivery.push import Pusher
    from ..delivery.signing import DeliverySigner
    from ..delivery.worker import DeliveryPolicy, DeliveryWorker
    from ..exchange.sealing import MessageSealer

    for name, path in (
        ("GATEWAY_DELIVERY_CLIENT_CERT", current.delivery_client_cert),
        ("GATEWAY_DELIVERY_CLIENT_KEY", current.delivery_client_key),
    ):
        if path is not None and not path.is_file():
            raise click.ClickException(f"{name}: no file {path}")
    from ..audit.area import build_checkpointer
    from ..audit.log import use_checkpointer

    keys = context.keystore(current)
    db = context.database(current)
    # the worker appends deliveries and dead letters: it signs checkpoints like the API does
    use_checkpointer(build_checkpointer(keys, current))
    return DeliveryWorker(
        Outbox(db, AuditLog()),
        MessageSealer(keys.keyring),
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
    from ..audit.log import AuditLog
    from ..delivery.replay import OutboxAdmin

    return OutboxAdmin(context.database(context.settings()), AuditLog())


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
