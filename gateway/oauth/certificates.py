"""The client certificate forwarded by the TLS terminator, trusted only from known proxies.

TLS ends in front of the gateway (RFC 8705 section 2 is about the TLS layer, which here is
the terminator's). It forwards the verified client certificate as URL-encoded PEM in the
header named by ``GATEWAY_CLIENT_CERT_HEADER``. Anyone can send that header, so it counts
only when the connection comes from an address in ``GATEWAY_TRUSTED_PROXIES`` (empty by
default: the header is then ignored entirely, API.md section 2).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from cryptography import x509

from certs import InvalidCertificateError, parse_forwarded_certificate, x5t_s256

from ..config import Settings


def from_trusted_proxy(remote_addr: str | None, settings: Settings) -> bool:
    """True when the peer address lies in one of the trusted proxy networks."""
    if not remote_addr or not settings.trusted_proxies:
        return False
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(
        address.version == network.version and address in network
        for network in settings.trusted_proxies
    )


def forwarded_certificate(
    remote_addr: str | None, headers: Mapping[str, str], settings: Settings
) -> x509.Certificate | None:
    """The forwarded certificate, or None when absent, unparsable or not from a proxy."""
    if not from_trusted_proxy(remote_addr, settings):
        return None
    value = headers.get(settings.client_cert_header)
    if not value:
        return None
    try:
        return parse_forwarded_certificate(value)
    except InvalidCertificateError:
        return None


def thumbprint(certificate: x509.Certificate | None) -> str | None:
    """The RFC 8705 section 3.1 ``x5t#S256`` of the certificate (base64url SHA-256)."""
    return x5t_s256(certificate) if certificate is not None else None
