"""Issuing organisation (client) certificates from the development CA.

Dutch government organisations are identified by their OIN (Organisatie-identificatienummer,
20 digits). PKIoverheid puts the OIN in the subject ``serialNumber`` attribute, so the gateway
reads the caller's identity from there; the development certificates mirror that layout so
the same code path works against both.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from certs._files import PUBLIC_FILE_MODE, SECRET_FILE_MODE, write_file
from certs._time import utc
from certs.authority import CertificateAuthority, PrivateKey
from certs.errors import ChainError, InvalidCertificateError

_OIN_PATTERN = re.compile(r"[0-9]{20}")
# X.520 upper bound for commonName/organizationName; cryptography enforces it for CN too.
_MAX_NAME_LENGTH = 64
RSA_KEY_SIZE = 3072
KEY_TYPES = ("ec", "rsa")


def validate_oin(oin: str) -> str:
    """Return ``oin`` if it is exactly 20 ASCII digits, else raise InvalidCertificateError.

    ``str.isdigit`` would also accept e.g. Arabic-Indic or superscript digits, hence the
    explicit ``[0-9]`` pattern with ``fullmatch`` (``$`` would allow a trailing newline).
    """
    if not isinstance(oin, str) or _OIN_PATTERN.fullmatch(oin) is None:
        raise InvalidCertificateError("an OIN must be exactly 20 digits")
    return oin


def _validate_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME_LENGTH:
        raise InvalidCertificateError(
            f"the organisation name must be 1 to {_MAX_NAME_LENGTH} characters"
        )
    return name


def _generate_key(key_type: str) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
    raise ValueError(f"key_type must be one of {KEY_TYPES}")


def _authority_key_identifier(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """Link the leaf to the CA's SKI so chain builders can find the issuer unambiguously."""
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _subject(oin: str, name: str) -> x509.Name:
    """``C=NL, O=name, CN=name, serialNumber=OIN``, the PKIoverheid layout."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, oin),
        ]
    )


def _client_extensions(
    builder: x509.CertificateBuilder, ca_cert: x509.Certificate, key: PrivateKey, key_type: str
) -> x509.CertificateBuilder:
    """The extensions of a TLS client leaf: not a CA, signing (and RSA key transport) only,
    clientAuth, and the key identifiers that link it to its issuer."""
    return (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                # RSA key transport in TLS <= 1.2 needs keyEncipherment; EC keys never do.
                key_encipherment=key_type == "rsa",
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(_authority_key_identifier(ca_cert), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    )


def issue_organisation_certificate(
    ca: CertificateAuthority,
    oin: str,
    name: str,
    valid_days: int = 825,
    key_type: str = "ec",
    now: datetime | None = None,
) -> tuple[PrivateKey, x509.Certificate]:
    """Create a key pair and a clientAuth certificate for one organisation.

    The subject is ``C=NL, O=name, CN=name, serialNumber=OIN``. The validity never extends
    beyond the CA's own ``notAfter`` (a certificate outliving its issuer would fail chain
    validation anyway), and issuing with a CA that is not valid at ``now`` is refused.
    """
    validate_oin(oin)
    _validate_name(name)
    if valid_days <= 0:
        raise ValueError("valid_days must be positive")
    if key_type not in KEY_TYPES:
        raise ValueError(f"key_type must be one of {KEY_TYPES}")
    issued_at = utc(now)
    ca_cert = ca.certificate
    if not ca_cert.not_valid_before_utc <= issued_at <= ca_cert.not_valid_after_utc:
        raise ChainError("the CA certificate is not valid at the time of issuance")
    not_after = min(issued_at + timedelta(days=valid_days), ca_cert.not_valid_after_utc)

    key = _generate_key(key_type)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_subject(oin, name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued_at)
        .not_valid_after(not_after)
    )
    certificate = _client_extensions(builder, ca_cert, key, key_type).sign(ca.key, hashes.SHA256())
    return key, certificate


def oin_from_certificate(cert: x509.Certificate) -> str | None:
    """Return the OIN from the subject ``serialNumber``, or ``None``.

    ``None`` is returned when the attribute is missing, appears more than once (ambiguous
    identity), or does not hold a well-formed 20-digit OIN; callers must then refuse the
    client rather than guess.
    """
    attributes = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if len(attributes) != 1:
        return None
    value = attributes[0].value
    if not isinstance(value, str) or _OIN_PATTERN.fullmatch(value) is None:
        return None
    return value


def has_client_auth(cert: x509.Certificate) -> bool:
    """True if the certificate's ExtendedKeyUsage allows TLS client authentication."""
    try:
        eku = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in eku


def write_pem(
    path: Path,
    key: PrivateKey | None = None,
    cert: x509.Certificate | None = None,
) -> Path:
    """Write a key and/or certificate as PEM to ``path`` and return the path.

    If a private key is included the file gets mode 0600 (it is a secret and belongs in
    ``instance/``); a certificate-only file gets 0644. With both, the key comes first,
    the layout most TLS clients (curl ``--cert``, requests) accept as a combined file.
    """
    if key is None and cert is None:
        raise ValueError("write_pem needs a key, a certificate, or both")
    data = b""
    if key is not None:
        data += key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
    if cert is not None:
        data += cert.public_bytes(serialization.Encoding.PEM)
    mode = SECRET_FILE_MODE if key is not None else PUBLIC_FILE_MODE
    return write_file(Path(path), data, mode)
