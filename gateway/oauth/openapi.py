"""OpenAPI description of ``/oauth/*``, ``/.well-known/oauth-authorization-server`` and
``/api/v1/me`` (an extension of API.md: who does my token speak for)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source, problem_response
from ..registry.rules import SCOPES

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


def _json(name: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _form(properties: dict, required: list[str]) -> dict:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def _errors() -> dict:
    return {
        "400": {"description": "RFC 6749 section 5.2 error", "content": _json("OAuthError")},
        "401": {"description": "invalid_client", "content": _json("OAuthError")},
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


def _get(summary: str, operation_id: str, description: str) -> dict:
    content = {"application/json": {"schema": {"type": "object"}}}
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
            _form(token_fields, ["grant_type"]),
            {"description": "A 300-second access token", "content": _json("TokenResponse")},
        ),
        "/oauth/introspect": _post(
            "Introspect one of your own tokens (RFC 7662)",
            "introspectToken",
            _form(token_param, ["token"]),
            {"description": "active false for foreign tokens", "content": _json("Introspection")},
        ),
        "/oauth/revoke": _post(
            "Revoke one of your own tokens (RFC 7009)",
            "revokeToken",
            _form(token_param, ["token"]),
            {"description": "Revoked, or a no-op for foreign and unknown tokens"},
        ),
    }


def _read_paths() -> dict:
    """The keys, the server metadata and ``/api/v1/me``."""
    return {
        "/oauth/jwks": _get("The gateway's public signing keys", "getJwks", "JWKS (RFC 7517)"),
        "/.well-known/oauth-authorization-server": _get(
            "Authorization server metadata", "getServerMetadata", "RFC 8414"
        ),
        "/api/v1/me": {
            "get": {
                "summary": "Who the access token speaks for (extension; any scope)",
                "operationId": "getMe",
                "tags": ["oauth"],
                "security": [{"oauth2": []}],
                "responses": {
                    "200": {"description": "The caller", "content": _json("Me")},
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
    for path, operations in {**_token_paths(), **_read_paths()}.items():
        spec.path(path=path, operations=operations)
