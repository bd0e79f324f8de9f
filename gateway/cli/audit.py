"""``gateway audit ...``: verify the log, export it, sign a checkpoint now, acknowledge a gap.

The CLI acts as the operator (it runs on the gateway's own machine with its database and
keys): it sees every event, and each read is recorded like an API read, with the command as
``actor.user``. ``verify`` streams the log (constant memory) and exits 1 naming the first
invalid sequence number. A refusal (a time that is not RFC 3339, a broken chain, a log
rewound below a published checkpoint) is printed through the one problem table by the
``gateway`` command group (:mod:`gateway.cli.main`). ``acknowledge-gap`` ends the refusal of
proofs after a database restore (:mod:`gateway.audit.gaps`, docs/drills.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..audit.actors import OPERATOR, Actor
from ..audit.params import EventFilter, parse_time
from ..audit.service import AuditService
from ..audit.verify import ChainVerifier
from . import context


def _service() -> AuditService:
    current = context.settings()
    context.keystore(current)
    context.database(current)
    return context.services(current).audit


def _cli_actor(command: str) -> Actor:
    return Actor(None, OPERATOR, user=f"gateway audit {command}")


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@click.option("--no-record", is_flag=True, help="Do not add an audit.verify event first.")
def audit_verify(no_record: bool) -> None:
    """Recompute the hash chain and check every signed checkpoint; exit 1 when invalid."""
    service = _service()
    if no_record:
        report = ChainVerifier(service.db, service.checkpointer.signer.public_key).verify()
    else:
        report = service.verify(_cli_actor("verify"), fresh=True)
    click.echo(json.dumps(report.as_dict(), indent=2))
    service.db.dispose()
    if not report.valid:
        where = report.first_invalid_seq
        click.echo(
            "audit log INVALID"
            + (f": first invalid seq {where}" if where is not None else "")
            + (f" ({report.problem})" if report.problem else "")
            + (
                f"; invalid checkpoints {report.invalid_checkpoints}"
                if report.invalid_checkpoints
                else ""
            ),
            err=True,
        )
        sys.exit(1)
    click.echo(f"audit log valid: {report.entries} entries", err=True)


@audit_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), required=True)
@click.option("--from", "start", default=None, help="RFC 3339 time, inclusive.")
@click.option("--to", "end", default=None, help="RFC 3339 time, exclusive.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: stdout.")
def audit_export(fmt: str, start: str | None, end: str | None, out: Path | None) -> None:
    """Write every event (optionally of a time range) as CSV or JSON Lines."""
    wanted = EventFilter(start=parse_time("from", start), end=parse_time("to", end))
    service = _service()
    count = 0
    handle = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        for line in service.export(_cli_actor("export"), fmt, wanted):
            handle.write(line)
            count += 1
    finally:
        if out:
            handle.close()
    service.db.dispose()
    click.echo(f"exported {count - (1 if fmt == 'csv' else 0)} event(s)", err=True)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the current head now (for a timer while no traffic arrives)."""
    service = _service()
    try:  # a broken chain is shown through the problem table (409 audit_chain_invalid),
        service.gaps.require_none()  # a rewound log too (503 audit_log_rewound, recorded)
        row = service.checkpointer.ensure(service.db)
    finally:
        service.db.dispose()
    if row is None:
        click.echo("the audit log is empty")
        return
    click.echo(f"checkpoint at tree size {row.tree_size}: {row.root_hash}")


@audit_group.command("acknowledge-gap")
@click.option(
    "--reason",
    required=True,
    help="Why the log was rewound and what was done (recorded in the audit log; no child data).",
)
def audit_acknowledge_gap(reason: str) -> None:
    """Acknowledge that the log was rewound below a published checkpoint (a database restore):
    recorded as audit.gap_acknowledged, the head is signed and proofs are given again.
    Refused (exit 1) when there is no gap."""
    service = _service()
    try:
        done = service.gaps.acknowledge(_cli_actor("acknowledge-gap"), reason)
    except ValueError as invalid:
        raise click.UsageError(str(invalid)) from None
    finally:
        service.db.dispose()
    if done is None:
        click.echo("no gap: the audit log extends the newest published checkpoint", err=True)
        sys.exit(1)
    click.echo(json.dumps(done, indent=2))
    gap, row = done["gap"], done["checkpoint"]
    click.echo(
        f"gap acknowledged: published {gap['published_size']} entries, log had "
        f"{gap['log_size']}; new checkpoint at tree size {row['tree_size']}",
        err=True,
    )
