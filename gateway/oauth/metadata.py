"""What the authorization server publishes: RFC 8414 metadata and the JWKS (RFC 7517).

Both are built from the settings and the key store on each request; they are small, and the
JWKS must show a key added by ``gateway keys rotate`` in another process at once.
"""

from __future__ import annotations

from ..config import Settings
from ..keys import KeyStore
from ..registry.rules import SCOPES
from .assertions import ALLOWED_ALGORITHMS
from .clientauth import CLIENT_SECRET_BASIC, METHODS
from .tokens import SIGNING_ALGORITHMS


def auth_methods(settings: Settings) -> list[str]:
    """``client_secret_basic`` is offered only in development (API.md section 2)."""
    return [m for m in METHODS if m != CLIENT_SECRET_BASIC or not settings.is_production]


def server_metadata(settings: Settings) -> dict:
    """RFC 8414 section 2, plus RFC 8705 section 3.3's certificate-bound tokens flag."""
    issuer = settings.issuer
    methods = auth_methods(settings)
    algorithms = list(ALLOWED_ALGORITHMS)
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],  # REQUIRED; no authorization endpoint, so none
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        "introspection_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
        "revocation_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
        "access_token_signing_alg_values_supported": list(SIGNING_ALGORITHMS),
        "tls_client_certificate_bound_access_tokens": True,
        "service_documentation": f"{issuer}/api/v1/docs",
    }


def public_jwks(keys: KeyStore) -> dict:
    """Public halves of every active signing key of every purpose, one entry per ``kid``:
    token keys first, then push and receipt keys (oldest first within each).

    The ``kid`` prefix names the purpose (``token-``, ``push-``, ``receipt-``; token keys from
    before the split have none), so a verifier picks only the keys of the purpose it checks:
    a push recipient trusts only ``push-`` keys for ``Gateway-Signature``.
    """
    published: dict[str, dict] = {}
    for folder in keys.folders.values():
        folder.refresh()
        for key in folder.active:
            published.setdefault(key.kid, key.public_jwk())
    return {"keys": list(published.values())}
