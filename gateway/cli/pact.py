"""``gateway pact run``: the pact's daily run (docs/pact-workflows.md section 5.4).

Closes the consultations whose consent ended, fires the escalations due at the region's norm
and delivers those that waited for a suspended holder, sends the due case reminders, and
records one ``admin.pact.run`` event with the counts. Schedule it daily (05:00
Europe/Amsterdam, beside ``monitoring alerts`` and ``retention purge``); a missed day is caught
up by the next run. ``--dry-run`` counts and changes nothing. ``--now`` runs as of another
moment (a drill or a test; refused in production, where only the clock decides).
"""

from __future__ import annotations

import click

from ..audit.actors import OPERATOR, Actor
from ..audit.params import parse_time
from ..problems import GatewayError
from . import context


@click.group("pact")
def pact_group() -> None:
    """The pact's workflows: escalations and case reminders."""


@pact_group.command("run")
@click.option("--dry-run", is_flag=True, help="Count what is due; change and record nothing.")
@click.option("--now", "now_text", help="Run as of this RFC 3339 time (not in production).")
def pact_run(dry_run: bool, now_text: str | None) -> None:
    """Close ended consultations, fire and deliver escalations, send reminders; audited as
    admin.pact.run."""
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
    service = context.services(current).pact_run
    actor = Actor(None, OPERATOR, user="gateway pact run")
    report = service.run(actor, now=now, dry_run=dry_run)
    suffix = " (dry run, nothing changed)" if dry_run else ""
    for name, count in report.counts().items():
        click.echo(f"{name.replace('_', ' ')}: {count}{suffix}")
