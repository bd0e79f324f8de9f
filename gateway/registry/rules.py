"""What a valid registration is: the rules shared by the CLI, the bootstrap file and the web.

Kept as plain functions returning messages so that each caller can attach its own location
(a YAML line, a form field, a CLI option).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

ORGANISATION_TYPES = ("school", "swv", "ggd", "wij", "leerplicht", "operator")
STATUSES = ("active", "suspended")
AUTH_METHODS = ("private_key_jwt", "tls_client_auth", "client_secret_basic")
SCOPES = (
    "exchange:send",
    "exchange:receive",
    "consent:write",
    "consent:read",
    "signal:write",
    "reidentify:request",
    "reidentify:approve",
    "audit:read",
    "monitoring:read",
)
OPERATOR_ONLY_SCOPES = ("reidentify:approve",)
_OIN = re.compile(r"[0-9]{20}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_BRIN = re.compile(r"[0-9]{2}[A-Z0-9]{2}")
_KVK = re.compile(r"[0-9]{8}(/[0-9]{12})?")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def oin_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _OIN.fullmatch(value):
        return "must be an OIN of exactly 20 digits (quote it in YAML)"
    return None


def brin_problem(value: object) -> str | None:
    """A school's BRIN (4 characters: two digits, two capitals or digits), or None (issue 21:
    what an Entree IdP asserts in ``nlEduPersonHomeOrganizationId``)."""
    if value is not None and (not isinstance(value, str) or not _BRIN.fullmatch(value)):
        return "must be a BRIN of 2 digits and 2 capital letters or digits, e.g. 12AB"
    return None


def kvk_problem(value: object) -> str | None:
    """A KvK number (8 digits), optionally with the vestigingsnummer (``/`` and 12 digits),
    or None (issue 21: what an eHerkenning broker asserts)."""
    if value is not None and (not isinstance(value, str) or not _KVK.fullmatch(value)):
        return "must be a KvK number of 8 digits, optionally /vestigingsnummer of 12 digits"
    return None


def client_id_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _CLIENT_ID.fullmatch(value):
        return "must be 1-100 characters of letters, digits, '.', '_' or '-'"
    return None


def thumbprint_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value.lower()):
        return "must be the certificate's SHA-256 thumbprint as 64 hex characters"
    return None


def delivery_url_problem(value: object, *, production: bool) -> str | None:
    """https always; plain http only to this machine, and only in development.

    In production the gateway must not be turned into a way into its own network (server-side
    request forgery): the URL is https on port 443, and a host given as an IP literal must be
    a public (``is_global``) address, never a private, loopback, link-local (cloud metadata at
    169.254.169.254), shared or reserved one. A host name is checked again where it matters, at
    delivery time, on the address it resolves to (:mod:`gateway.delivery.address`).
    """
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 2000:
        return "must be a URL"
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        return "must be a URL (its port is not a number from 0 to 65535)"
    if parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS and not production:
        return None
    if parts.scheme != "https" or not parts.hostname:
        if production:
            return "must be an https URL in production"
        return "must be an https URL (http is allowed only to 127.0.0.1 in development)"
    if not production:
        return None
    if port not in (None, 443):
        return "must use port 443 in production (no other port)"
    address = ip_literal(parts.hostname)
    if address is not None and not is_public_address(address):
        return (
            "must name a public address in production: "
            f"{parts.hostname} is private, loopback, link-local or otherwise not global"
        )
    return None


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a URL's host denotes literally, also in the legacy IPv4 forms that
    resolvers accept (``2130706433``, ``0x7f.1``, ``127.1``); None for a host name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable (``is_global``), judging an IPv4-mapped IPv6 address by its IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def scope_problems(scopes: object, organisation_type: str) -> list[tuple[int | None, str]]:
    """Problems with a scope list as (index, message); index None for the list itself."""
    if not isinstance(scopes, list) or not scopes:
        return [(None, "must be a non-empty list of scopes")]
    problems: list[tuple[int | None, str]] = []
    seen = set()
    for index, scope in enumerate(scopes):
        if not isinstance(scope, str) or scope not in SCOPES:
            problems.append((index, f"is not a known scope (known: {', '.join(SCOPES)})"))
            continue
        if scope in seen:
            problems.append((index, "is listed twice"))
        elif scope in OPERATOR_ONLY_SCOPES and organisation_type != "operator":
            problems.append((index, f"{scope} may be granted only to the operator organisation"))
        seen.add(scope)
    return problems


def jwks_problem(jwks: object) -> str | None:
    """A client's JWKS must hold public keys only, with unique ``kid``s where given."""
    from joserfc.jwk import JWKRegistry

    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        return "must be a JWKS object with a non-empty 'keys' list"
    kids = set()
    for key in jwks["keys"]:
        if not isinstance(key, dict):
            return "every key must be an object"
        if any(private in key for private in ("d", "p", "q", "dp", "dq", "qi", "k")):
            return "must contain public keys only (a private or symmetric key was found)"
        if key.get("kty") not in ("EC", "RSA", "OKP"):
            return "keys must be EC, RSA or OKP"
        kid = key.get("kid")
        if kid is not None:
            if not isinstance(kid, str):
                return "key ids (kid) must be strings"
            if kid in kids:
                return "key ids (kid) must be unique"
            kids.add(kid)
        try:
            JWKRegistry.import_key(key)
        except Exception:  # noqa: BLE001 - any parse failure means an unusable key
            return "holds a key that cannot be read"
    return None
