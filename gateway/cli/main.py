"""Entry point of the ``gateway`` command."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from ..bootstrap import BootstrapError, apply_bootstrap, read_bootstrap
from ..config import ConfigurationError
from ..errors import answer_of
from ..storage import migrate
from . import context
from .audit import audit_group
from .certs import certs_group
from .delivery import outbox_group, worker
from .keys import keys_group
from .master import keys_rotate_master  # noqa: F401 - registers `gateway keys rotate-master`
from .pact import pact_group
from .pseudonymise import pseudonymise_command
from .registry import client, org
from .retention import retention_group


class ProblemGroup(click.Group):
    """A command failing with a refusal the one problem table knows (:mod:`gateway.errors`)
    prints it as the API would answer it, ``404 not_found: ...``, and exits 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as exc:
            answer = answer_of(exc)
            if answer is None:
                raise
            raise click.ClickException(answer.describe()) from None


@click.group(cls=ProblemGroup)
def main() -> None:
    """Thuiszitterspact gateway."""


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    current = context.settings()
    db = context.services(current).db
    migrate.upgrade(db.engine)
    click.echo(f"database at revision {migrate.current_revision(db.engine)}")


@main.command("bootstrap")
@click.argument("file", type=click.Path(path_type=Path))
def bootstrap(file: Path) -> None:
    """Apply a bootstrap FILE idempotently (organisations and clients)."""
    current = context.settings()
    try:
        plan = read_bootstrap(file, production=current.is_production)
    except BootstrapError as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        raise click.ClickException(f"{file} refused: {len(exc.problems)} problem(s)") from None
    report = apply_bootstrap(context.database(current), plan, context.services(current).audit_log)
    click.echo(
        f"created {len(report.created)}, updated {len(report.updated)}, "
        f"removed {len(report.removed)}, unchanged {len(report.unchanged)}"
    )
    for label in report.created:
        click.echo(f"  created {label}")
    for label in report.updated:
        click.echo(f"  updated {label}")
    for label in report.removed:
        click.echo(f"  removed {label}")


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def run(host: str, port: int, workers: int) -> None:
    """Serve the gateway under gunicorn."""
    from ..app import create_app
    from ..services import services_of

    current = context.settings()
    if not current.is_production:
        context.keystore(current)
        context.database(current)
    try:
        services_of(create_app(current)).db.dispose()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gateway-metrics-")
    os.environ["GATEWAY_BIND"] = f"{host}:{port}"
    os.environ["GATEWAY_WORKERS"] = str(workers)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:gateway.gunicorn_conf",
        "gateway.wsgi:app",
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn


main.add_command(org)
main.add_command(audit_group)
main.add_command(keys_group)
main.add_command(certs_group)
main.add_command(pseudonymise_command)
main.add_command(client)
main.add_command(worker)
main.add_command(outbox_group)
main.add_command(retention_group)
main.add_command(pact_group)


@main.group("demo")
def demo_group() -> None:
    """The laptop sandbox."""


@demo_group.command("keys")
@click.option("--out", type=click.Path(path_type=Path), default=Path("instance/demo"))
def demo_keys(out: Path) -> None:
    """Create the demo clients' key pairs (public JWKS for the bootstrap file)."""
    from ..demo.keys import ensure_demo_keys

    created = ensure_demo_keys(out)
    click.echo(f"demo keys in {out}: created {len(created)}")


@main.group("monitoring")
def monitoring_group() -> None:
    """Pact monitoring."""


@monitoring_group.command("alerts")
@click.option("--lead-days", default=7, show_default=True, type=int)
def monitoring_alerts(lead_days: int) -> None:
    """Send homebound alerts for children near six weeks or three months at home (daily)."""
    from ..clock import system_clock
    from ..monitoring.alerts import issue_alerts

    current = context.settings()
    context.keystore(current)
    db = context.database(current)
    core = context.services(current)
    created = issue_alerts(
        db,
        core.pseudonymiser,
        core.message_sealer,
        core.audit_log,
        system_clock(),
        lead_days=lead_days,
        timezone=current.timezone,
    )
    click.echo(f"sent {created} homebound alert(s)")


@demo_group.command("traffic")
@click.option("--keys", "keys_dir", type=click.Path(path_type=Path), default=Path("instance/demo"))
def demo_traffic(keys_dir: Path) -> None:
    """Fill a running sandbox as its partners would: consents (one withdrawn), a message on
    each demo route, a refused send, a pending re-identification request, and one of each of
    the pact's processes (the daily pact run included)."""
    from ..demo.client import DemoError
    from ..demo.traffic import run_demo

    current = context.settings()

    def run_pact() -> dict[str, int]:
        """Today's ``gateway pact run``, as the operator's cron would start it."""
        from ..audit.actors import OPERATOR, Actor

        context.keystore(current)
        context.database(current)
        actor = Actor(None, OPERATOR, user="gateway demo traffic")
        return context.services(current).pact_run.run(actor).counts()

    try:
        outcome = run_demo(current.base_url, keys_dir, click.echo, current.timezone, run_pact)
    except DemoError as exc:
        raise click.ClickException(f"demo traffic failed at {current.base_url}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"demo traffic failed: {type(exc).__name__}: {exc}") from None
    click.echo(outcome.summary())
