"""``gateway keys ...``: the master secret and the signing keys, one set per purpose.

Purposes: ``token`` (access tokens, ``signing/``), ``push`` (``Gateway-Signature``, ``push/``)
and ``receipt`` (consent receipts, ``receipts/``). Rotation with overlap (API.md section 2):
``rotate`` adds a key that every running process starts using at once (they watch the key
directory); the previous key stays published and trusted, so tokens it signed keep working
until they expire. ``retire`` ends that overlap (mind that a consent receipt lives as long as
its consent: a retired receipt key's receipts no longer verify against ``/oauth/jwks``).

``hsm-init`` puts the signing keys on a PKCS#11 token instead (gateway/keys/hsm.py); with the
``GATEWAY_PKCS11_*`` settings it prints, ``rotate``, ``list`` and ``retire`` act on the token.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from ..config import PKCS11_PURPOSES, ConfigurationError, Pkcs11Settings, pkcs11_from_env
from ..keys import AUDIT, PURPOSE_NAMES, PURPOSES
from . import context

# A token lives 300 s and is accepted 60 s past its exp, a push signature 300 s (60 s skew):
# after this, the old key signs nothing that is still valid.
OVERLAP = timedelta(seconds=360)


@click.group("keys")
def keys_group() -> None:
    """Master secret and signing keys."""


@keys_group.command("init")
def keys_init() -> None:
    """Create missing development keys (refused in production)."""
    store = context.keystore(context.settings())
    click.echo("created: " + (", ".join(store.generated) or "nothing, all keys present"))


PURPOSE_CHOICE = click.Choice([*PURPOSES, "all"])


@keys_group.command("rotate")
@click.option(
    "--purpose",
    type=PURPOSE_CHOICE,
    default="all",
    show_default=True,
    help="Which key: token (access tokens), push (Gateway-Signature), receipt (consent "
    "receipts), or all three.",
)
def keys_rotate(purpose: str) -> None:
    """Add a new signing key per purpose; it signs from now on, in every process."""
    store = context.keystore(context.settings())
    for name in PURPOSES if purpose == "all" else (purpose,):
        folder = store.folders[name]
        previous = folder.current.kid
        key = folder.add()
        click.echo(
            f"new signing key {key.kid} for {name} "
            f"(previous {previous} stays valid for what it signed)"
        )


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--purpose", type=PURPOSE_CHOICE, default="all", show_default=True)
def keys_list(as_json: bool, purpose: str) -> None:
    """Signing keys per purpose, oldest first: current, active (published, trusted) or
    retired."""
    store = context.keystore(context.settings())
    rows = []
    for name in PURPOSES if purpose == "all" else (purpose,):
        folder = store.folders[name]
        current = folder.current.kid
        for key in [*folder.active, *folder.retired]:
            if key.retired_at:
                status = "retired"
            else:
                status = "current" if key.kid == current else "active"
            rows.append(
                {
                    "kid": key.kid,
                    "purpose": name,
                    "alg": key.alg,
                    "created_at": key.created_at.isoformat(),
                    "status": status,
                    "custody": "pkcs11" if name in store.on_token else "file",
                }
            )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['kid']:<38} {row['purpose']:<8} {row['alg']:<6} {row['status']:<8} "
            f"{row['custody']:<7} {row['created_at']}"
        )


@keys_group.command("retire")
@click.argument("kid")
@click.option("--force", is_flag=True, help="Retire even while what it signed may be valid.")
def keys_retire(kid: str, force: bool) -> None:
    """Stop publishing and trusting KID; what it signed stops verifying at once."""
    store = context.keystore(context.settings())
    purpose = store.purpose_of(kid)
    if purpose is None:
        raise click.ClickException(f"no active signing key {kid}")
    folder = store.folders[purpose]
    created = next((key.created_at for key in folder.active if key.kid == kid), None)
    if created is None:
        raise click.ClickException(f"no active signing key {kid}")
    newer = [key for key in folder.active if key.created_at > created]
    if newer and not force and datetime.now(UTC) - newer[0].created_at < OVERLAP:
        raise click.ClickException(
            f"what {kid} signed may still be valid; wait until "
            f"{(newer[0].created_at + OVERLAP).isoformat()} or use --force"
        )
    try:
        folder.retire(kid)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"retired {purpose} signing key {kid}")


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


def token_options(command):
    """The options naming a PKCS#11 token, each defaulting to its GATEWAY_PKCS11_* setting."""
    for option in reversed(
        (
            click.option(
                "--module",
                envvar="GATEWAY_PKCS11_MODULE",
                required=True,
                type=click.Path(exists=True, dir_okay=False),
                help="The HSM vendor's PKCS#11 library "
                "(SoftHSM: /usr/lib/softhsm/libsofthsm2.so).",
            ),
            click.option(
                "--token", envvar="GATEWAY_PKCS11_TOKEN", required=True, help="The token label."
            ),
            click.option(
                "--pin-file",
                envvar="GATEWAY_PKCS11_PIN_FILE",
                type=click.Path(exists=True, dir_okay=False),
                help="A file holding the user PIN (or set GATEWAY_PKCS11_PIN; never on the "
                "command line).",
            ),
            click.option(
                "--keys",
                "purposes",
                envvar="GATEWAY_PKCS11_KEYS",
                default=",".join(PKCS11_PURPOSES),
                show_default=True,
                help="Which signing keys live on the token.",
            ),
            click.option("--label-prefix", envvar="GATEWAY_PKCS11_LABEL_PREFIX", default=""),
        )
    ):
        command = option(command)
    return command


def _token_environ(
    module: str, token: str, pin_file: str | None, purposes: str, label_prefix: str
) -> dict[str, str]:
    environ = {
        "GATEWAY_PKCS11_MODULE": module,
        "GATEWAY_PKCS11_TOKEN": token,
        "GATEWAY_PKCS11_KEYS": purposes,
        "GATEWAY_PKCS11_LABEL_PREFIX": label_prefix,
    }
    if pin_file:
        environ["GATEWAY_PKCS11_PIN_FILE"] = pin_file
    else:
        environ["GATEWAY_PKCS11_PIN"] = _pin_from_env()
    return environ


def _print_settings(environ: dict[str, str]) -> None:
    click.echo("\nset for every gateway process (gateway run, delivery worker, CLI):")
    for name, value in environ.items():
        if name == "GATEWAY_PKCS11_PIN":
            value = "<the user PIN; better GATEWAY_PKCS11_PIN_FILE>"
        if value:
            click.echo(f"{name}={value}")


@keys_group.command("hsm-init")
@token_options
def keys_hsm_init(
    module: str, token: str, pin_file: str | None, purposes: str, label_prefix: str
) -> None:
    """Generate the missing signing keys on a PKCS#11 token (never extractable) and print
    the settings that make the gateway use them. Idempotent: present keys are kept."""
    from ..keys.hsm import Token, TokenKeyFolder, audit_key

    environ = _token_environ(module, token, pin_file, purposes, label_prefix)
    try:
        settings: Pkcs11Settings = pkcs11_from_env(environ)
        on_token = Token(settings)
        for purpose in settings.purposes:
            if purpose == AUDIT:
                key, created = audit_key(on_token, generate=True)
                what, name = "audit checkpoint key", key.label
            else:
                folder = TokenKeyFolder(on_token, purpose)
                folder.load()
                created = not folder.active
                key = folder.add() if created else folder.current
                what, name = PURPOSE_NAMES[purpose], key.kid
            click.echo(f"{'created' if created else 'present'}: {what} {name}")
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    _print_settings(environ)


@keys_group.command("hsm-import")
@token_options
def keys_hsm_import(
    module: str, token: str, pin_file: str | None, purposes: str, label_prefix: str
) -> None:
    """Copy the active signing keys of GATEWAY_KEYS_DIR onto a PKCS#11 token, under their
    own kids: for a gateway that already signed with files, so that its audit checkpoints,
    consent receipts and tokens keep verifying. Then remove the key files from the gateway."""
    from ..keys.hsm import Token, import_file_keys

    environ = _token_environ(module, token, pin_file, purposes, label_prefix)
    try:
        settings: Pkcs11Settings = pkcs11_from_env(environ)
        directory = context.settings().keys_dir
        copied = import_file_keys(Token(settings), directory, settings.purposes)
        for what, name, imported in copied:
            click.echo(f"{'imported' if imported else 'present'}: {what} {name}")
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        "\nthe token now signs with these keys; delete their files from the gateway's key "
        "directory (keep master/), and keep or destroy the offline copy as your key policy says"
    )
    _print_settings(environ)


def _pin_from_env() -> str:
    """The user PIN from GATEWAY_PKCS11_PIN (kept off the command line and out of ps)."""
    import os

    pin = os.environ.get("GATEWAY_PKCS11_PIN")
    if not pin:
        raise click.UsageError("give --pin-file or set GATEWAY_PKCS11_PIN")
    return pin
