"""OpenAPI description of ``/api/v1/pep/*`` (README, polymorphic mode)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.examples import SCHOOL, example, examples
from ..docs.openapi import path_source, problem_response

BASE64_32 = {
    "type": "string",
    "pattern": "^[A-Za-z0-9+/]{43}=$",
    "description": "standard base64 of a 32-byte ristretto255 element",
}

COMPONENTS = {
    "PepPublicKey": {
        "type": "object",
        "required": ["version", "group", "master_public_key", "link_public_key"],
        "properties": {
            "version": {"type": "integer"},
            "group": {"type": "string", "enum": ["ristretto255"]},
            "master_public_key": BASE64_32,
            "link_public_key": BASE64_32,
        },
    },
    "PepKeyShare": {
        "type": "object",
        "required": ["organisation", "client_id", "kid", "version", "key_share"],
        "properties": {
            "organisation": {"type": "string", "pattern": "^[0-9]{20}$"},
            "client_id": {"type": "string"},
            "kid": {"type": ["string", "null"]},
            "version": {"type": ["integer", "null"]},
            "key_share": {
                "type": "string",
                "description": (
                    "Compact JWE (ECDH-ES+A256KW or RSA-OAEP-256, A256GCM) sealed to the "
                    "client's registered key; its plaintext is the organisation's decryption "
                    "key, public key, the master and link public keys and the link secret."
                ),
            },
        },
    },
}


KEY_SHARE = (
    "eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00iLCJraWQiOiJyZWdlbmJvb2ctc2lzLTIwMjYt"
    "MSIsImVwayI6eyJrdHkiOiJFQyIsImNydiI6IlAtMjU2IiwieCI6IkJFOGJuRzVBRjdUVUpXZXRGSGhtYTN0aWE4"
    "dnp3SFkxM0hSUHJfUkFTT0UiLCJ5IjoiMnlMZEx6YXh0c1hjaFdwdEY1OFdvSUFmQlRDQV9JZm1fdWVMWHo3UWpK"
    "NCJ9fQ.kIl6a1_jlBvVx4cM4ZqP2n0-Vw8wWfP1Gm0Zb3yJ2Xq9E7cUuI6Rrg."
    "p9Yx4fJ1Zt6nQ2bV."
    "Xq3Nv0bKw9y2LmQ7cZ5tH8rJ1uA4sE6gD0fB3iW9oP2kM5nT7vY1xR4zC6qU8eI0aS2dF4gH6jK8lZ0xC2vB4nM6."
    "7kQm2Zr4Xb9Pq1Wv3Ys5Tu"
)
"""A compact JWE as the gateway seals a share (header readable; the rest illustrative)."""

EXAMPLES = {
    "PepPublicKey": example(
        "Version 1 of the system keys",
        {
            "version": 1,
            "group": "ristretto255",
            "master_public_key": "ZmP3HmXbnAm399RvVhw+JIBrfxlDGC6rAhyRzoozCkI=",
            "link_public_key": "6mfgOy4tmxe6ZmiDb4pyzW2FpwgevYYtLpYk0e8+KhY=",
        },
    ),
    "PepKeyShare": example(
        "The school's share, sealed to its client key",
        {
            "organisation": SCHOOL,
            "client_id": "regenboog-sis",
            "kid": "regenboog-sis-2026-1",
            "version": 1,
            "key_share": KEY_SHARE,
        },
    ),
}


def _json(ref: str) -> dict:
    return {
        "application/json": {
            "schema": {"$ref": f"#/components/schemas/{ref}"},
            "examples": examples(ref),
        }
    }


@path_source
def pep_paths(spec: APISpec) -> None:
    for name, component in COMPONENTS.items():
        if name not in spec.components.schemas:
            spec.components.schema(name, component)
    for name, component in EXAMPLES.items():
        spec.components.example(name, component)
    spec.path(
        path="/api/v1/pep/public-key",
        operations={
            "get": {
                "summary": "The public keys of polymorphic pseudonymisation",
                "operationId": "getPepPublicKey",
                "tags": ["polymorphic"],
                "security": [],
                "responses": {
                    "200": {"description": "The keys", "content": _json("PepPublicKey")},
                    "404": problem_response("polymorphic_unavailable: no keys issued yet"),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/pep/key-share",
        operations={
            "get": {
                "summary": "The caller's key share, sealed to its own client key (audited)",
                "operationId": "getPepKeyShare",
                "tags": ["polymorphic"],
                "security": [{"oauth2": []}],
                "responses": {
                    "200": {"description": "The sealed share", "content": _json("PepKeyShare")},
                    "401": problem_response("missing_token | invalid_token"),
                    "404": problem_response("key_share_not_issued | polymorphic_unavailable"),
                    "429": problem_response("too_many_requests"),
                },
            }
        },
    )
