"""OpenAPI description of ``/oauth/*``, ``/.well-known/oauth-authorization-server`` and
``/api/v1/me`` (an extension of API.md: who does my token speak for)."""

from __future__ import annotations

import base64
import json

from apispec import APISpec

from ..docs.examples import SCHOOL, example, examples
from ..docs.openapi import path_source, problem_response
from ..registry.rules import SCOPES
from .server import DESCRIPTIONS

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_AUTH_FIELDS = {
    "client_assertion_type": {"type": "string", "enum": [ASSERTION_TYPE]},
    "client_assertion": {
        "type": "string",
        "description": (
            "private_key_jwt (RFC 7523): a JWT signed with ES256, PS256, RS256 or EdDSA by a "
            "key of the client's JWKS; iss = sub = client_id; aud = the token endpoint URL, "
            "the issuer or this endpoint's URL (one string); exp at most 5 minutes ahead; "
            "a jti never used before."
        ),
    },
    "client_id": {
        "type": "string",
        "description": "Required for tls_client_auth (RFC 8705); optional otherwise.",
    },
}
OAUTH_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
                "unsupported_token_type",
            ],
        },
        "error_description": {"type": "string"},
    },
}
TOKEN_RESPONSE = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "properties": {
        "access_token": {"type": "string", "description": "JWT (RFC 9068), typ at+jwt"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer", "const": 300},
        "scope": {"type": "string"},
    },
}
INTROSPECTION = {
    "type": "object",
    "required": ["active"],
    "properties": {
        "active": {"type": "boolean"},
        **{
            name: {"type": "string"}
            for name in ("scope", "client_id", "sub", "token_type", "iss", "aud", "jti")
        },
        "iat": {"type": "integer"},
        "exp": {"type": "integer"},
        "org": {"type": "string", "pattern": "^[0-9]{20}$"},
        "org_type": {"type": "string"},
        "cnf": {"type": "object", "properties": {"x5t#S256": {"type": "string"}}},
    },
}
ME = {
    "type": "object",
    "required": ["client_id", "org", "org_type", "scopes"],
    "properties": {
        "client_id": {"type": "string"},
        "org": {"type": "string", "pattern": "^[0-9]{20}$"},
        "org_type": {"type": "string"},
        "scopes": {"type": "array", "items": {"type": "string", "enum": list(SCOPES)}},
    },
}


ISSUER = "http://127.0.0.1:8000"
"""The sandbox's issuer (GATEWAY_BASE_URL of make run)."""
CLIENT_ID = "regenboog-sis"
SCHOOL_SCOPES = "exchange:send exchange:receive"


def _segment(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def _jwt(header: dict, claims: dict, signature: str) -> str:
    """A compact JWT with these header and claims (decode it to read them); the signature
    is an illustration, no key signed it."""
    return f"{_segment(header)}.{_segment(claims)}.{signature}"


ASSERTION = _jwt(
    {"alg": "ES256", "kid": "regenboog-sis-2026-1", "typ": "JWT"},
    {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": f"{ISSUER}/oauth/token",
        "jti": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "iat": 1796114400,
        "exp": 1796114520,
    },
    "MEUCIQDx3bq0uEr2cG0Qm7y7sXQ4nLqk2O1gJp3aF5H6w9b1vQIgYk3Zr8x1n4m7p0q2s5u8w1y3a6c9e2g5i8k1m4o7q0s",
)
ACCESS_TOKEN = _jwt(
    {"alg": "ES256", "kid": "token-20261201T000000-20272471", "typ": "at+jwt"},
    {
        "iss": ISSUER,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "client_id": CLIENT_ID,
        "org": SCHOOL,
        "org_type": "school",
        "scope": SCHOOL_SCOPES,
        "jti": "0b8f3c1e-6d2a-4e7b-9a5c-3f1d8e2b7a64",
        "iat": 1796114401,
        "exp": 1796114701,
    },
    "3q2-7wVkQ9mC1xZb8nL4tR6yU0iO2pA5sD7fG9hJ1kL3zX5cV7bN9mQ1wE3rT5yU7iO9pA1sD3fG5hJ7kL9zXw",
)

ASSERTION_FIELDS = {
    "client_assertion_type": ASSERTION_TYPE,
    "client_assertion": ASSERTION,
}

EXAMPLES = {
    "TokenRequestPrivateKeyJwt": example(
        "private_key_jwt: a client assertion signed with the client's key",
        {"grant_type": "client_credentials", "scope": SCHOOL_SCOPES, **ASSERTION_FIELDS},
    ),
    "TokenRequestTlsClientAuth": example(
        "tls_client_auth: the client certificate authenticates; all registered scopes",
        {"grant_type": "client_credentials", "client_id": CLIENT_ID},
    ),
    "TokenResponse": example(
        "A 300-second access token",
        {
            "access_token": ACCESS_TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": SCHOOL_SCOPES,
        },
    ),
    "TokenParameter": example(
        "One of the client's own access tokens",
        {"token": ACCESS_TOKEN, "token_type_hint": "access_token", **ASSERTION_FIELDS},
    ),
    "IntrospectionActive": example(
        "The client's own token, still valid",
        {
            "active": True,
            "scope": SCHOOL_SCOPES,
            "client_id": CLIENT_ID,
            "sub": CLIENT_ID,
            "token_type": "Bearer",
            "iss": ISSUER,
            "aud": ISSUER,
            "jti": "0b8f3c1e-6d2a-4e7b-9a5c-3f1d8e2b7a64",
            "iat": 1796114401,
            "exp": 1796114701,
            "org": SCHOOL,
            "org_type": "school",
        },
    ),
    "IntrospectionInactive": example(
        "Expired, revoked, unknown or another client's token", {"active": False}
    ),
    "OAuthInvalidScope": example(
        "400 invalid_scope",
        {"error": "invalid_scope", "error_description": DESCRIPTIONS["invalid_scope"]},
    ),
    "OAuthUnsupportedGrantType": example(
        "400 unsupported_grant_type",
        {
            "error": "unsupported_grant_type",
            "error_description": DESCRIPTIONS["unsupported_grant_type"],
        },
    ),
    "OAuthInvalidRequest": example(
        "400 invalid_request",
        {"error": "invalid_request", "error_description": DESCRIPTIONS["invalid_request"]},
    ),
    "OAuthInvalidClient": example(
        "401 invalid_client",
        {"error": "invalid_client", "error_description": DESCRIPTIONS["invalid_client"]},
    ),
    "Jwks": example(
        "The token, push and receipt signing keys (public parts only)",
        {
            "keys": [
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": "baY2yuHFfAgdj89DV5MJS_03fcBivYMQoa2W2eddx-I",
                    "y": "f0x13dk2hVwtCatOrAUABLpreRjBBdF9BDvq-dSEWpY",
                    "kid": "token-20261201T000000-20272471",
                    "alg": "ES256",
                    "use": "sig",
                },
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": "QlfJdTN0b9WNcjRZpXEU7_CeEniZqTH-5skxUDepGPQ",
                    "y": "n-MWmN9-zZd-nVLGvMHOuVFtstX7YpLgfey4G6B03aM",
                    "kid": "push-20261201T000000-ca9ce62e",
                    "alg": "ES256",
                    "use": "sig",
                },
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": "YUZU6c14pGl_f8tpHKpGGaavTJQZblvOjEMzTwgFvdo",
                    "y": "hbE-nH3ns0ioTrXRWEcISbgaRb451Yg9D4Oc3a7WcbU",
                    "kid": "receipt-20261201T000000-75dd44f9",
                    "alg": "ES256",
                    "use": "sig",
                },
            ]
        },
    ),
    "ServerMetadata": example(
        "RFC 8414 metadata of the sandbox",
        {
            "issuer": ISSUER,
            "token_endpoint": f"{ISSUER}/oauth/token",
            "jwks_uri": f"{ISSUER}/oauth/jwks",
            "introspection_endpoint": f"{ISSUER}/oauth/introspect",
            "revocation_endpoint": f"{ISSUER}/oauth/revoke",
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": [
                "private_key_jwt",
                "tls_client_auth",
                "client_secret_basic",
            ],
            "token_endpoint_auth_signing_alg_values_supported": [
                "ES256",
                "PS256",
                "RS256",
                "EdDSA",
            ],
            "access_token_signing_alg_values_supported": ["ES256"],
            "tls_client_certificate_bound_access_tokens": True,
            "service_documentation": f"{ISSUER}/api/v1/docs",
        },
    ),
    "Me": example(
        "The school's information system",
        {
            "client_id": CLIENT_ID,
            "org": SCHOOL,
            "org_type": "school",
            "scopes": [
                "audit:read",
                "consent:read",
                "consent:write",
                "exchange:receive",
                "exchange:send",
                "monitoring:read",
                "reidentify:request",
                "signal:write",
            ],
        },
    ),
}


def _json(name: str, *example_names: str) -> dict:
    media: dict = {"schema": {"$ref": f"#/components/schemas/{name}"}}
    if example_names:
        media["examples"] = examples(*example_names)
    return {"application/json": media}


def _form(properties: dict, required: list[str], *example_names: str) -> dict:
    schema = {"type": "object", "properties": properties, "required": required}
    media = {"schema": schema, "examples": examples(*example_names)}
    return {"required": True, "content": {"application/x-www-form-urlencoded": media}}


def _errors() -> dict:
    return {
        "400": {
            "description": "RFC 6749 section 5.2 error",
            "content": _json(
                "OAuthError",
                "OAuthInvalidScope",
                "OAuthUnsupportedGrantType",
                "OAuthInvalidRequest",
            ),
        },
        "401": {
            "description": "invalid_client",
            "content": _json("OAuthError", "OAuthInvalidClient"),
        },
    }


def _post(summary: str, operation_id: str, body: dict, ok: dict) -> dict:
    return {
        "post": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["oauth"],
            "security": [],
            "requestBody": body,
            "responses": {"200": ok, **_errors()},
        }
    }


def _get(summary: str, operation_id: str, description: str, example_name: str) -> dict:
    content = {
        "application/json": {"schema": {"type": "object"}, "examples": examples(example_name)}
    }
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["oauth"],
            "security": [],
            "responses": {"200": {"description": description, "content": content}},
        }
    }


def _token_paths() -> dict:
    """The form-encoded endpoints: token (RFC 6749), introspection (RFC 7662), revocation
    (RFC 7009)."""
    token_fields = {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "description": "space-separated; omitted = all registered"},
        **CLIENT_AUTH_FIELDS,
    }
    token_param = {
        "token": {"type": "string"},
        "token_type_hint": {"type": "string"},
        **CLIENT_AUTH_FIELDS,
    }
    return {
        "/oauth/token": _post(
            "Get an access token (client credentials)",
            "getToken",
            _form(
                token_fields,
                ["grant_type"],
                "TokenRequestPrivateKeyJwt",
                "TokenRequestTlsClientAuth",
            ),
            {
                "description": "A 300-second access token",
                "content": _json("TokenResponse", "TokenResponse"),
            },
        ),
        "/oauth/introspect": _post(
            "Introspect one of your own tokens (RFC 7662)",
            "introspectToken",
            _form(token_param, ["token"], "TokenParameter"),
            {
                "description": "active false for foreign tokens",
                "content": _json("Introspection", "IntrospectionActive", "IntrospectionInactive"),
            },
        ),
        "/oauth/revoke": _post(
            "Revoke one of your own tokens (RFC 7009)",
            "revokeToken",
            _form(token_param, ["token"], "TokenParameter"),
            {"description": "Revoked, or a no-op for foreign and unknown tokens"},
        ),
    }


def _read_paths() -> dict:
    """The keys, the server metadata and ``/api/v1/me``."""
    return {
        "/oauth/jwks": _get(
            "The gateway's public signing keys", "getJwks", "JWKS (RFC 7517)", "Jwks"
        ),
        "/.well-known/oauth-authorization-server": _get(
            "Authorization server metadata", "getServerMetadata", "RFC 8414", "ServerMetadata"
        ),
        "/api/v1/me": {
            "get": {
                "summary": "Who the access token speaks for (extension; any scope)",
                "operationId": "getMe",
                "tags": ["oauth"],
                "security": [{"oauth2": []}],
                "responses": {
                    "200": {"description": "The caller", "content": _json("Me", "Me")},
                    "401": problem_response("missing_token or invalid_token"),
                },
            }
        },
    }


COMPONENTS = {
    "OAuthError": OAUTH_ERROR,
    "TokenResponse": TOKEN_RESPONSE,
    "Introspection": INTROSPECTION,
    "Me": ME,
}


@path_source
def oauth_paths(spec: APISpec) -> None:
    for name, schema in COMPONENTS.items():
        spec.components.schema(name, schema)
    for name, component in EXAMPLES.items():
        spec.components.example(name, component)
    for path, operations in {**_token_paths(), **_read_paths()}.items():
        spec.path(path=path, operations=operations)
