"""Build the OpenAPI 3.1 document from the marshmallow schemas with apispec.

Bodies and responses come from ``schemas/`` (one source of truth for validation and
documentation); each API area contributes its paths through a function registered in
:data:`PATH_SOURCES`, so adding an endpoint means documenting it next to its handler.
"""

from __future__ import annotations

from collections.abc import Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from ..registry.rules import SCOPES
from ..version import API_VERSION
from .examples import FSC_TRANSACTION_ID, document_problem_examples, example, examples

PathSource = Callable[[APISpec], None]
PATH_SOURCES: list[PathSource] = []


def path_source(function: PathSource) -> PathSource:
    """Register a function that adds an area's paths to the document."""
    PATH_SOURCES.append(function)
    return function


def problem_response(description: str, *example_names: str) -> dict:
    """A problem answer; its examples are the named components, or else (added when the
    document is built) one shared example per code the description names."""
    media: dict = {"schema": {"$ref": "#/components/schemas/Problem"}}
    if example_names:
        media["examples"] = examples(*example_names)
    return {"description": description, "content": {"application/problem+json": media}}


def build_spec(base_url: str) -> dict:
    from schemas.openapi import register_schemas

    spec = APISpec(
        title="Thuiszitterspact gateway",
        version=API_VERSION,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": (
                "Secure exchange of case data about children who do not go to school, between "
                "schools, GGD, WIJ, leerplicht and samenwerkingsverbanden. Errors are RFC 9457 "
                "problem details with a stable `code`."
            ),
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        servers=[{"url": base_url}],
    )
    register_schemas(spec)
    spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "description": "client_credentials with private_key_jwt or tls_client_auth",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": f"{base_url}/oauth/token",
                    "scopes": {scope: scope for scope in SCOPES},
                }
            },
        },
    )
    spec.path(
        path="/api/v1/openapi.json",
        operations={
            "get": {
                "summary": "This OpenAPI document",
                "operationId": "getOpenApi",
                "tags": ["documentation"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object"},
                                "examples": examples("OpenApiDocument"),
                            }
                        },
                    }
                },
            }
        },
    )
    spec.components.example("OpenApiDocument", _document_example())
    spec.components.example("EmptyBody", example("No body needed: {} or nothing", {}))
    for source in PATH_SOURCES:
        source(spec)
    document = spec.to_dict()
    _document_rate_limits(document)
    _document_transaction_ids(document)
    document_problem_examples(document)
    return document


def _document_example() -> dict:
    """The start of this document, as the example of the operation that serves it."""
    return example(
        "This document (shortened)",
        {
            "openapi": "3.1.0",
            "info": {"title": "Thuiszitterspact gateway", "version": API_VERSION},
            "paths": {"/api/v1/exchanges": {"post": {"operationId": "sendExchange"}}},
        },
    )


TRANSACTION_ID = {
    "name": "Fsc-Transaction-Id",
    "in": "header",
    "required": False,
    "description": "FSC transaction id (a UUID); made by the gateway (UUIDv7) when absent and "
    "returned in the answer's header.",
    "schema": {"type": "string", "format": "uuid"},
    "example": FSC_TRANSACTION_ID,
}


def _document_transaction_ids(document: dict) -> None:
    """Every ``/api/v1`` operation takes ``Fsc-Transaction-Id`` and answers 400
    ``invalid_parameter`` for one that is not a UUID (API.md section 1); the areas that say
    more keep their own. The OAuth endpoints keep the shape of their RFCs."""
    for path, item in document.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == TRANSACTION_ID["name"] for p in parameters):
                parameters.append(dict(TRANSACTION_ID))
            operation.setdefault("responses", {}).setdefault(
                "400", problem_response("invalid_parameter (e.g. Fsc-Transaction-Id not a UUID)")
            )


def _document_rate_limits(document: dict) -> None:
    """Every authenticated ``/api/v1`` operation may answer 429 (limits per client and per
    organisation); saying so once here keeps the areas' path sources short."""
    for path, item in document.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("security"):
                operation.setdefault("responses", {}).setdefault(
                    "429", problem_response("too_many_requests (with Retry-After)")
                )
