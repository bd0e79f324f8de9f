"""``gateway retention purge``: apply the retention terms (:mod:`gateway.retention`).

Erases payloads past their route's retention (as before), then consents, signals,
re-identification requests, exchange records' child references and monitoring facts past
their terms (``gateway/policies/retention.yaml``), then crypto-shreds the child references
of audit events past theirs; records one ``admin.retention.purge`` event with the counts.
``--dry-run`` counts and changes nothing. ``--now`` applies the terms as of another moment
(a drill or a test; refused in production, where only the clock decides).
"""

from __future__ import annotations

import click

from ..audit.actors import OPERATOR, Actor
from ..audit.params import parse_time
from ..problems import GatewayError
from . import context

DEFAULT_REASON = "retention terms of gateway/policies/retention.yaml"


@click.group("retention")
def retention_group() -> None:
    """Erasure of everything kept past its retention term."""


@retention_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what is due; change and record nothing.")
@click.option(
    "--reason",
    default=DEFAULT_REASON,
    show_default=True,
    help="Why (recorded in the audit event; never child data).",
)
@click.option(
    "--now", "now_text", help="Apply the terms as of this RFC 3339 time (not in production)."
)
def retention_purge(dry_run: bool, reason: str, now_text: str | None) -> None:
    """Erase everything past its retention term; audited as admin.retention.purge."""
    current = context.settings()
    if now_text is not None and current.is_production:
        raise click.UsageError("--now is refused in production: the clock decides there")
    try:
        now = parse_time("now", now_text)
    except GatewayError:
        raise click.BadParameter(
            "must be an RFC 3339 time with offset", param_hint="--now"
        ) from None
    context.keystore(current)
    context.database(current)
    service = context.services(current).retention
    actor = Actor(None, OPERATOR, user="gateway retention purge")
    try:
        report = service.purge(actor, reason, now=now, dry_run=dry_run)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--reason") from None
    verb = "due (dry run, nothing changed)" if dry_run else "erased"
    click.echo(f"payloads {verb}: {report.payloads}")
    for name, count in report.records.items():
        click.echo(f"{name.replace('_', ' ')} {verb}: {count}")
    click.echo(f"audit child references {'due' if dry_run else 'shredded'}: {report.audit_events}")
    if report.audit_held:
        click.echo(
            f"audit child references past their term but kept for a record still kept: "
            f"{report.audit_held}"
        )
