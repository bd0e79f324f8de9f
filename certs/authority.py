"""A development certificate authority.

Production organisations present PKIoverheid certificates; for development, tests and demos
we need a local CA that issues look-alike organisation certificates. Its private key is a
secret: :meth:`CertificateAuthority.save` writes it with mode 0600, and it belongs in
``instance/`` (git-ignored), never in the repository.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from certs._files import PUBLIC_FILE_MODE, SECRET_FILE_MODE, write_file
from certs._time import utc
from certs.errors import InvalidCertificateError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CA_KEY_FILENAME = "ca.key"
CA_CERT_FILENAME = "ca.pem"


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA private key together with its (self-signed) certificate."""

    key: PrivateKey = field(repr=False)
    certificate: x509.Certificate

    def save(self, directory: Path) -> tuple[Path, Path]:
        """Write ``ca.key`` (PKCS#8 PEM, mode 0600) and ``ca.pem`` into ``directory``.

        Returns ``(key_path, certificate_path)``. Existing files are replaced.
        """
        directory = Path(directory)
        key_pem = self.key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        cert_pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        key_path = write_file(directory / CA_KEY_FILENAME, key_pem, SECRET_FILE_MODE)
        cert_path = write_file(directory / CA_CERT_FILENAME, cert_pem, PUBLIC_FILE_MODE)
        return key_path, cert_path

    @classmethod
    def load(cls, directory: Path) -> CertificateAuthority:
        """Read a CA written by :meth:`save`.

        Refuses a key that does not belong to the certificate, so that a half-replaced CA
        directory fails loudly instead of issuing certificates nobody can verify.
        """
        directory = Path(directory)
        key_data = (directory / CA_KEY_FILENAME).read_bytes()
        cert_data = (directory / CA_CERT_FILENAME).read_bytes()
        try:
            key = serialization.load_pem_private_key(key_data, password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidCertificateError("the CA private key could not be loaded") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise InvalidCertificateError("the CA private key must be an EC or RSA key")
        try:
            certificate = x509.load_pem_x509_certificate(cert_data)
        except ValueError as exc:
            raise InvalidCertificateError("the CA certificate could not be loaded") from exc
        if key.public_key() != certificate.public_key():
            raise InvalidCertificateError("the CA private key does not match the certificate")
        return cls(key=key, certificate=certificate)


def create_development_ca(
    name: str = "Thuiszitterspact Development CA",
    valid_days: int = 3650,
    now: datetime | None = None,
) -> CertificateAuthority:
    """Create a self-signed EC P-256 CA for development use.

    The CA may only sign end-entity certificates (``path_length=0``): a development CA has
    no business creating intermediates. ``now`` is injectable so tests can build expired
    or not-yet-valid hierarchies.
    """
    if valid_days <= 0:
        raise ValueError("valid_days must be positive")
    if not name or len(name) > 64:
        raise ValueError("the CA name must be 1 to 64 characters")
    issued_at = utc(now)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued_at)
        .not_valid_after(issued_at + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(key=key, certificate=certificate)
