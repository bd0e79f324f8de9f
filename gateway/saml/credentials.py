"""The SAML key pairs: the service provider's, and the development IdP's.

They live under ``GATEWAY_KEYS_DIR/saml/`` beside the gateway's other keys. The SP key signs
AuthnRequests and LogoutRequests and its certificate is published in ``/saml/metadata``. In
development missing pairs are generated (self-signed RSA-3072 certificates, which is what SAML
metadata trust expects: the certificate is trusted because the metadata names it); production
refuses to generate, like :class:`gateway.keys.KeyStore`, because a new SP certificate must
first be registered at the IdP.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..config import ConfigurationError

SAML_DIR = "saml"


@dataclass(frozen=True)
class KeyPair:
    """Paths of a PEM private key and its certificate (pysaml2 and xmlsec1 read files)."""

    key_file: Path
    cert_file: Path

    def certificate_pem(self) -> str:
        return self.cert_file.read_text()


def self_signed(common_name: str, years: int = 5, bits: int = 3072) -> tuple[bytes, bytes]:
    """A new RSA key (PKCS#8 PEM) and a self-signed SHA-256 certificate (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def _publish(path: Path, data: bytes) -> None:
    """Write ``path`` (mode 0600) so that it appears whole; an existing file wins."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def key_pair(keys_dir: Path, name: str, common_name: str, *, allow_generate: bool) -> KeyPair:
    """``saml/<name>.key`` and ``saml/<name>.crt`` under ``keys_dir``, made in development.

    Several gunicorn workers may start at once: the key is published first and only the
    process whose key won writes the certificate for it, so the two always belong together.
    """
    folder = Path(keys_dir) / SAML_DIR
    pair = KeyPair(folder / f"{name}.key", folder / f"{name}.crt")
    if pair.key_file.exists() and pair.cert_file.exists():
        return pair
    if not allow_generate:
        raise ConfigurationError(
            f"GATEWAY_KEYS_DIR: {pair.key_file} and {pair.cert_file} are missing; production "
            "refuses to generate the SAML service provider's key pair: provision it and "
            "register the certificate at the identity provider"
        )
    folder.mkdir(parents=True, exist_ok=True)
    key_pem, cert_pem = self_signed(common_name)
    _publish(pair.key_file, key_pem)
    if pair.key_file.read_bytes() == key_pem:
        _publish(pair.cert_file, cert_pem)
    deadline = time.monotonic() + 30
    while not pair.cert_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # another process is writing the certificate for its key
    return pair


def service_provider_keys(keys_dir: Path, *, allow_generate: bool) -> KeyPair:
    return key_pair(
        keys_dir, "sp", "Thuiszitterspact gateway SAML SP", allow_generate=allow_generate
    )


def development_idp_keys(keys_dir: Path) -> KeyPair:
    return key_pair(
        keys_dir, "devidp", "Thuiszitterspact gateway development IdP", allow_generate=True
    )


ENCRYPTION = "encryption"


def encryption_keys(keys_dir: Path, *, allow_generate: bool) -> list[KeyPair]:
    """The SP's encryption key pairs: ``saml/encryption.key|crt`` (the current one) and any
    ``saml/encryption-<label>.key|crt`` (a rotation: the next or the previous key).

    Every pair is published in the SP metadata and every pair is tried when decrypting, so a
    rotation overlaps: add the new pair as ``encryption-next``, wait until every IdP has
    refreshed the SP metadata, make it ``encryption`` and keep the old one as
    ``encryption-previous`` until assertions encrypted to it can no longer arrive, then delete
    it. In development a missing current pair is generated; production never generates (an
    IdP configured to encrypt then fails until the pair is provisioned).
    """
    folder = Path(keys_dir) / SAML_DIR
    current = folder / f"{ENCRYPTION}.key"
    pairs = []
    if current.exists() or allow_generate:
        try:
            pairs.append(
                key_pair(
                    keys_dir,
                    ENCRYPTION,
                    "Thuiszitterspact gateway SAML SP encryption",
                    allow_generate=allow_generate,
                )
            )
        except ConfigurationError:
            pass
    for key_file in sorted(folder.glob(f"{ENCRYPTION}-*.key")) if folder.exists() else []:
        cert_file = key_file.with_suffix(".crt")
        if cert_file.exists():
            pairs.append(KeyPair(key_file, cert_file))
    return pairs
