"""``gateway keys ...``: the master secret and the token-signing keys.

Rotation with overlap (API.md section 2): ``rotate`` adds a key that every running process
starts using at once (they watch the key directory); the previous key stays published and
trusted, so tokens it signed keep working until they expire. ``retire`` ends that overlap.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from ..config import ConfigurationError
from . import context

# A token lives 300 s and is accepted 60 s past its exp: after this, the old key signs nothing
# that is still valid.
OVERLAP = timedelta(seconds=360)


@click.group("keys")
def keys_group() -> None:
    """Master secret and signing keys."""


@keys_group.command("init")
def keys_init() -> None:
    """Create missing development keys (refused in production)."""
    store = context.keystore(context.settings())
    click.echo("created: " + (", ".join(store.generated) or "nothing, all keys present"))


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Add a new signing key; it signs every new token from now on, in every process."""
    store = context.keystore(context.settings())
    previous = store.current_signing_key.kid
    key = store.add_signing_key()
    click.echo(f"new signing key {key.kid} (previous {previous} stays valid for its tokens)")


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def keys_list(as_json: bool) -> None:
    """Signing keys, oldest first: current, active (published, trusted) or retired."""
    store = context.keystore(context.settings())
    current = store.current_signing_key.kid
    rows = [
        {
            "kid": key.kid,
            "alg": key.alg,
            "created_at": key.created_at.isoformat(),
            "status": "current" if key.kid == current else "active",
        }
        for key in store.signing_keys
    ] + [
        {
            "kid": key.kid,
            "alg": key.alg,
            "created_at": key.created_at.isoformat(),
            "status": "retired",
        }
        for key in store.retired_signing_keys
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['kid']:<28} {row['alg']:<6} {row['status']:<8} {row['created_at']}")


@keys_group.command("retire")
@click.argument("kid")
@click.option("--force", is_flag=True, help="Retire even while its tokens may still be valid.")
def keys_retire(kid: str, force: bool) -> None:
    """Stop publishing and trusting KID; tokens it signed stop working at once."""
    store = context.keystore(context.settings())
    newer = [key for key in store.signing_keys if key.created_at > _created(store, kid)]
    if newer and not force and datetime.now(UTC) - newer[0].created_at < OVERLAP:
        raise click.ClickException(
            f"tokens signed by {kid} may still be valid; wait until "
            f"{(newer[0].created_at + OVERLAP).isoformat()} or use --force"
        )
    try:
        store.retire_signing_key(kid)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"retired signing key {kid}")


def _created(store, kid: str) -> datetime:
    for key in store.signing_keys:
        if key.kid == kid:
            return key.created_at
    raise click.ClickException(f"no active signing key {kid}")


@keys_group.command("pep-issue")
@click.option(
    "--issuer-dir",
    type=click.Path(path_type=Path),
    envvar="GATEWAY_PEP_ISSUER_DIR",
    default=Path("instance/pep-issuer"),
    show_default=True,
    help="The key issuer's own directory (master key, link and factor secrets).",
)
@click.option("--init", "init", is_flag=True, help="Create the issuer's secrets if missing.")
def keys_pep_issue(issuer_dir: Path, init: bool) -> None:
    """Issue polymorphic keys: factors for the gateway, sealed key shares for organisations.

    Run it as the key issuer, apart from the serving gateway, after enabling an organisation
    (bootstrap ``polymorphic: true``) or changing a client key. Idempotent: the same secrets
    give the same factors, so pseudonyms never change by re-running it.
    """
    from sqlalchemy import select

    from ..pep.issuing import IssuerError, Participant, issue, load_or_create_issuer
    from ..storage.models import Organisation

    current = context.settings()
    try:
        issuer, created = load_or_create_issuer(
            issuer_dir, current.keys_dir, allow_create=init or not current.is_production
        )
    except IssuerError as exc:
        raise click.ClickException(str(exc)) from None
    db = context.database(current)
    with db.session() as session:
        organisations = session.scalars(
            select(Organisation).where(Organisation.polymorphic.is_(True))
        ).all()
        participants = [
            Participant(org.oin, {client.client_id: client.jwks for client in org.clients})
            for org in organisations
        ]
    report = issue(issuer, participants, current.keys_dir)
    if created:
        click.echo(f"created issuer secrets in {issuer_dir} (keep them apart from the gateway)")
    click.echo(
        f"issued for {len(report.organisations)} organisation(s); "
        f"key shares sealed for {len(report.sealed)} client(s)"
    )
    for client_id in report.unsealed:
        click.echo(f"no share for client {client_id}: it has no EC or RSA public key", err=True)
