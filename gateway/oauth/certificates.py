"""The client certificate forwarded by the TLS terminator, trusted only from known proxies.

TLS ends in front of the gateway (RFC 8705 section 2 is about the TLS layer, which here is
the terminator's). It forwards the verified client certificate as URL-encoded PEM in the
header named by ``GATEWAY_CLIENT_CERT_HEADER``. Anyone can send that header, so it counts
only when the connection comes from an address in ``GATEWAY_TRUSTED_PROXIES`` (empty by
default: the header is then ignored entirely, API.md section 2). Production refuses trusted
ranges wider than a /24 or /64 (:func:`gateway.config.wide_networks`): only the terminator,
never the cluster network, may speak for a partner.

With ``GATEWAY_CLIENT_CERT_HEADER=X-Forwarded-Client-Cert`` the header is read in Envoy's
XFCC format (the ``Cert`` field of exactly one element), as Envoy Gateway's
``ClientTrafficPolicy`` with ``mode: SanitizeSet`` sets it (deploy/kubernetes/envoy-gateway.yaml).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from cryptography import x509

from certs import InvalidCertificateError, parse_forwarded_certificate, x5t_s256

from ..config import Settings

XFCC = "x-forwarded-client-cert"


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
    if settings.client_cert_header.lower() == XFCC:
        value = xfcc_certificate(value)
        if value is None:
            return None
    try:
        return parse_forwarded_certificate(value)
    except InvalidCertificateError:
        return None


def _split(value: str, separator: str) -> list[str] | None:
    """``value`` split at ``separator`` outside double quotes (``\\"`` escapes a quote);
    None when a quote is left open."""
    parts, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted or escaped:
        return None
    parts.append("".join(current))
    return parts


def xfcc_certificate(value: str) -> str | None:
    """The URL-encoded PEM of the ``Cert`` field of an ``X-Forwarded-Client-Cert`` header.

    Envoy (Envoy Gateway's ``SanitizeSet``) writes one element, ``Hash=...;Cert="..."``, for
    the client of *this* connection. Several comma-separated elements mean a proxy appended
    to a header that came from outside (``AppendForward``): which one is the client is then
    anyone's guess, so such a header counts as no certificate at all.
    """
    elements = _split(value, ",")
    if elements is None or len(elements) != 1:
        return None
    pairs = _split(elements[0], ";")
    if pairs is None:
        return None
    certs = []
    for pair in pairs:
        key, equals, field_value = pair.strip().partition("=")
        if equals and key.strip().lower() == "cert":
            certs.append(field_value.strip())
    if len(certs) != 1:
        return None
    cert = certs[0]
    if len(cert) >= 2 and cert[0] == cert[-1] == '"':
        cert = cert[1:-1].replace('\\"', '"')
    return cert or None


def thumbprint(certificate: x509.Certificate | None) -> str | None:
    """The RFC 8705 section 3.1 ``x5t#S256`` of the certificate (base64url SHA-256)."""
    return x5t_s256(certificate) if certificate is not None else None
