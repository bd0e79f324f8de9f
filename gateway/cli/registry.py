"""``gateway org ...`` and ``gateway client ...``: manage the organisation registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..registry.errors import RegistryError
from ..registry.service import ClientCredentials
from . import context


@contextmanager
def _refusals() -> Iterator[None]:
    """A registry refusal ends the command with its message (exit status 1)."""
    try:
        yield
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None


def _credential_options(command):
    """``--auth`` with its ``--jwks-file`` or ``--cert-sha256`` (a secret is prompted for)."""
    command = click.option("--cert-sha256", default=None)(command)
    command = click.option("--jwks-file", type=click.Path(path_type=Path), default=None)(command)
    return click.option(
        "--auth",
        type=click.Choice(["private_key_jwt", "tls_client_auth", "client_secret_basic"]),
        required=True,
    )(command)


@click.group("org")
def org() -> None:
    """Partner organisations."""


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def org_list(as_json: bool) -> None:
    organisations = context.registry(context.settings()).organisations()
    rows = [
        {
            "oin": o.oin,
            "name": o.name,
            "type": o.type,
            "status": o.status,
            "delivery_url": o.delivery_url,
            "clients": [c.client_id for c in o.clients],
        }
        for o in organisations
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['oin']}  {row['type']:<10} {row['status']:<9} {row['name']}")


@org.command("add")
@click.option("--oin", required=True)
@click.option("--name", required=True)
@click.option("--type", "type_", required=True)
@click.option("--delivery-url", default=None)
@click.option("--polymorphic", is_flag=True, help="Take part in polymorphic pseudonymisation.")
def org_add(oin: str, name: str, type_: str, delivery_url: str | None, polymorphic: bool) -> None:
    with _refusals():
        context.registry(context.settings()).add_organisation(
            oin, name, type_, delivery_url=delivery_url, polymorphic=polymorphic
        )
    click.echo(f"added organisation {oin}")


def _set_status(oin: str, status: str) -> None:
    with _refusals():
        changed = context.registry(context.settings()).set_status(oin, status)
    click.echo(f"organisation {oin} {status}" if changed else f"organisation {oin} was {status}")


@org.command("suspend")
@click.argument("oin")
def org_suspend(oin: str) -> None:
    """Suspend an organisation: its tokens stop working at once."""
    _set_status(oin, "suspended")


@org.command("activate")
@click.argument("oin")
def org_activate(oin: str) -> None:
    _set_status(oin, "active")


@click.group("client")
def client() -> None:
    """OAuth clients of partner organisations."""


def _credentials(auth: str, jwks_file: Path | None, cert_sha256: str | None) -> ClientCredentials:
    if auth == "private_key_jwt":
        if jwks_file is None:
            raise click.UsageError("private_key_jwt needs --jwks-file")
        try:
            jwks = json.loads(jwks_file.read_text())
        except (OSError, ValueError):
            raise click.ClickException(f"cannot read a JWKS from {jwks_file}") from None
        return ClientCredentials(auth, jwks=jwks)
    if auth == "tls_client_auth":
        if not cert_sha256:
            raise click.UsageError("tls_client_auth needs --cert-sha256")
        return ClientCredentials(auth, tls_cert_sha256=cert_sha256)
    secret = click.prompt("client secret", hide_input=True, confirmation_prompt=True)
    return ClientCredentials(auth, client_secret=secret)


@client.command("list")
@click.option("--oin", default=None, help="Only this organisation's clients.")
def client_list(oin: str | None) -> None:
    for item in context.registry(context.settings()).clients(oin):
        scopes = " ".join(item.scopes)
        click.echo(f"{item.client_id:<30} {item.organisation.oin} {item.auth_method:<20} {scopes}")


@client.command("add")
@click.option("--oin", required=True)
@click.option("--client-id", required=True)
@_credential_options
@click.option("--scope", "scopes", multiple=True, required=True)
def client_add(oin, client_id, auth, jwks_file, cert_sha256, scopes) -> None:
    credentials = _credentials(auth, jwks_file, cert_sha256)
    with _refusals():
        context.registry(context.settings()).add_client(oin, client_id, credentials, list(scopes))
    click.echo(f"added client {client_id}")


@client.command("rotate-key")
@click.argument("client_id")
@_credential_options
def client_rotate_key(client_id, auth, jwks_file, cert_sha256) -> None:
    """Replace a client's key material (JWKS, certificate thumbprint or secret)."""
    credentials = _credentials(auth, jwks_file, cert_sha256)
    with _refusals():
        context.registry(context.settings()).rotate_client_credentials(client_id, credentials)
    click.echo(f"rotated the credentials of {client_id}")
