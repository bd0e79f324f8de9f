"""``gateway pseudonymise``: bulk pseudonymisation of a CSV file for one organisation's domain.

Used when a partner joins with an existing caseload: its records get the same pseudonyms the
gateway will use in its inbox, without the BSNs passing through any other system.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pseudonymise import BulkInputError, organisation_domain, pseudonymise_csv

from ..registry import rules
from . import context


@click.command("pseudonymise")
@click.option("--domain", "oin", required=True, help="The OIN whose pseudonym domain to use.")
@click.option("--in", "source", required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--column", default="bsn", show_default=True, help="The column holding the BSN.")
@click.option("--out", "target", required=True, type=click.Path(path_type=Path))
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    default=None,
    help="Where refused rows go (default: OUT with .rejects.csv).",
)
@click.option("--delimiter", default=",", show_default=True)
def pseudonymise_command(oin, source, column, target, rejects, delimiter) -> None:
    """Replace the BSN column of a CSV by the organisation's pseudonyms (streams)."""
    problem = rules.oin_problem(oin)
    if problem:
        raise click.BadParameter(problem, param_hint="--domain")
    rejects = rejects or target.with_suffix(".rejects.csv")
    current = context.settings()
    context.keystore(current)
    pseudonymiser = context.services(current).pseudonymiser
    show_progress = sys.stderr.isatty()

    def progress(rows: int) -> None:
        if show_progress:
            click.echo(f"\r{rows:,} rows", err=True, nl=False)

    with (
        source.open(newline="", encoding="utf-8") as reader,
        target.open("w", newline="", encoding="utf-8") as writer,
        rejects.open("w", newline="", encoding="utf-8") as rejected,
    ):
        try:
            result = pseudonymise_csv(
                reader,
                writer,
                rejected,
                column,
                organisation_domain(oin),
                pseudonymiser,
                progress=progress,
                delimiter=delimiter,
            )
        except BulkInputError as exc:
            raise click.ClickException(str(exc)) from None
    if show_progress:
        click.echo("", err=True)
    click.echo(
        f"{result.rows_out} rows pseudonymised, {result.rows_rejected} refused"
        + (f" (see {rejects})" if result.rows_rejected else "")
    )
    if result.rows_rejected:
        shown = ", ".join(str(line) for line in result.rejected_lines[:20])
        click.echo(f"refused lines (invalid BSN or row): {shown}", err=True)
