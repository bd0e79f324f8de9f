"""Certificate thumbprints and parsing of certificates forwarded by the TLS terminator.

RFC 8705 binds access tokens to the client certificate through ``cnf.x5t#S256``: the
base64url (unpadded) SHA-256 digest of the DER certificate. The gateway sits behind a TLS
terminator that forwards the verified client certificate in a header as URL-encoded PEM
(nginx ``$ssl_client_escaped_cert``); that header is input to be parsed defensively.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certs.errors import InvalidCertificateError

# A PEM client certificate is ~1-3 KiB; anything far larger is not a single certificate
# and is refused before any decoding work is done.
MAX_FORWARDED_CERTIFICATE_SIZE = 16 * 1024


def _sha256_der(cert: x509.Certificate) -> bytes:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()


def sha256_thumbprint_hex(cert: x509.Certificate) -> str:
    """Lowercase hex SHA-256 over the DER certificate (for logs, registries, pinning)."""
    return _sha256_der(cert).hex()


def x5t_s256(cert: x509.Certificate) -> str:
    """The RFC 8705 section 3.1 ``x5t#S256`` value: base64url, unpadded, of SHA-256(DER)."""
    return base64.urlsafe_b64encode(_sha256_der(cert)).rstrip(b"=").decode("ascii")


def load_pem_certificate(data: str | bytes) -> x509.Certificate:
    """Parse one PEM certificate; any malformed input raises InvalidCertificateError."""
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidCertificateError("the certificate is not ASCII PEM") from None
    if not isinstance(data, bytes) or not data.strip():
        raise InvalidCertificateError("no certificate was supplied")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        # ``from None``: the underlying parser error is noise and may quote the input.
        raise InvalidCertificateError("the input is not a valid PEM certificate") from None


def parse_forwarded_certificate(header_value: str) -> x509.Certificate:
    """Decode a URL-encoded PEM certificate header as forwarded by the TLS terminator.

    Uses ``unquote`` rather than ``unquote_plus``: ``+`` is a base64 character and must not
    become a space. Empty, oversized (> 16 KiB) and non-certificate values are refused;
    error messages never echo the header value.
    """
    if not isinstance(header_value, str) or not header_value.strip():
        raise InvalidCertificateError("no client certificate was forwarded")
    if len(header_value) > MAX_FORWARDED_CERTIFICATE_SIZE:
        raise InvalidCertificateError("the forwarded client certificate is too large")
    try:
        pem = unquote(header_value, encoding="ascii", errors="strict")
    except UnicodeDecodeError:
        raise InvalidCertificateError("the forwarded client certificate is not PEM") from None
    return load_pem_certificate(pem)
