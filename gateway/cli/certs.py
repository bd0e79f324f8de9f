"""``gateway certs ...``: a development CA and organisation client certificates.

For local mTLS (``tls_client_auth``) only: production organisations present PKIoverheid
certificates. Private keys are written with mode 0600 under ``instance/`` by default, which
git ignores.
"""

from __future__ import annotations

from pathlib import Path

import click

from certs import (
    CA_CERT_FILENAME,
    CertificateAuthority,
    CertificateError,
    create_development_ca,
    issue_organisation_certificate,
    sha256_thumbprint_hex,
    write_pem,
)

from . import context


def _default_dir() -> Path:
    return context.settings().instance_dir / "certs"


@click.group("certs")
def certs_group() -> None:
    """Development CA and organisation certificates (local mTLS testing)."""


@certs_group.command("init-ca")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default instance/certs")
@click.option("--name", default="Thuiszitterspact Development CA", show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing CA.")
def init_ca(out: Path | None, name: str, force: bool) -> None:
    """Create a development CA (ca.key mode 0600, ca.pem)."""
    out = out or _default_dir()
    if (out / CA_CERT_FILENAME).exists() and not force:
        raise click.ClickException(f"{out / CA_CERT_FILENAME} exists; use --force to replace it")
    try:
        key_path, cert_path = create_development_ca(name=name).save(out)
    except (CertificateError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"CA key {key_path}\nCA certificate {cert_path}")


@certs_group.command("issue")
@click.option("--oin", required=True, help="The organisation's 20-digit OIN.")
@click.option("--name", required=True, help="The organisation's name (subject O and CN).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default instance/certs")
@click.option("--ca-dir", type=click.Path(path_type=Path), default=None, help="Default --out")
@click.option("--key-type", type=click.Choice(["ec", "rsa"]), default="ec", show_default=True)
@click.option("--days", type=int, default=825, show_default=True)
def issue(
    oin: str, name: str, out: Path | None, ca_dir: Path | None, key_type: str, days: int
) -> None:
    """Issue a client certificate with the OIN in the subject serialNumber."""
    out = out or _default_dir()
    ca_dir = ca_dir or out
    try:
        ca = CertificateAuthority.load(ca_dir)
        key, certificate = issue_organisation_certificate(
            ca, oin, name, valid_days=days, key_type=key_type
        )
    except FileNotFoundError:
        raise click.ClickException(f"no CA in {ca_dir}; run 'gateway certs init-ca'") from None
    except (CertificateError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    key_path = write_pem(out / f"{oin}.key", key=key)
    cert_path = write_pem(out / f"{oin}.pem", cert=certificate)
    click.echo(f"key {key_path}\ncertificate {cert_path}")
    click.echo(f"tls_client_cert_sha256: {sha256_thumbprint_hex(certificate)}")
