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
from .query import DEPRECATED_ALIASES, DEPRECATION_HEADERS, alias_description

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
            "contact": {**CONTACT, "url": f"{base_url}/api/v1/docs"},
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
    _document_invalid_input(document)
    _document_query_aliases(document)
    _document_version_header(document)
    _nullable_as_type_lists(document)
    document_problem_examples(document)
    return document


CONTACT = {
    "name": "Beheer Thuiszitterspact gateway",
    "email": "api@thuiszitterspact.example.nl",
}
"""The API's contact (``/core/doc-openapi-contact``); its url is the served docs page."""

OPERATIONS = ("get", "put", "post", "delete", "patch")


def _operations(document: dict):
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in OPERATIONS and isinstance(operation, dict):
                yield path, method, operation


def _document_version_header(document: dict) -> None:
    """Every success and redirect answers ``API-Version`` (``/core/version-header``;
    :mod:`gateway.http` sends it on every answer), declared once here so that each area,
    present or to come, documents it without a word of its own."""
    document.setdefault("components", {}).setdefault("headers", {})["API-Version"] = {
        "description": "The full version of the API contract (semantic versioning).",
        "required": True,
        "schema": {"type": "string"},
        "example": API_VERSION,
    }
    ref = {"$ref": "#/components/headers/API-Version"}
    for _, _, operation in _operations(document):
        for status, response in operation.get("responses", {}).items():
            if str(status)[:1] in ("2", "3") and isinstance(response, dict):
                response.setdefault("headers", {}).setdefault("API-Version", dict(ref))


def _document_invalid_input(document: dict) -> None:
    """An operation that takes input may answer 400 (``/core/error-handling/invalid-input``):
    every operation with parameters or a body says so, where its area did not already."""
    for _, method, operation in _operations(document):
        takes_input = operation.get("parameters") or operation.get("requestBody")
        if takes_input or method in ("put", "post", "patch"):
            operation.setdefault("responses", {}).setdefault(
                "400", problem_response("invalid_parameter")
            )


BEFORE_THE_QUERY = ("401", "403", "429")
"""Refusals that come before a view reads its query (token, scope, rate limit): no alias read,
so no deprecation headers."""


def _document_query_aliases(document: dict) -> None:
    """A documented query key with a deprecated snake_case alias (gateway.docs.query) says so
    in its description, and its operation's answers declare the deprecation headers that a
    request with the alias gets. (A parameter of its own would put a snake_case key back into
    the document the ADR linter reads.)"""
    for _, _, operation in _operations(document):
        aliases = []
        for parameter in operation.get("parameters", []):
            note = parameter.get("in") == "query" and alias_description(parameter["name"])
            if note:
                described = parameter.get("description")
                parameter["description"] = f"{described}. {note}" if described else note
                aliases.append(f"`{DEPRECATED_ALIASES[parameter['name']]}`")
        if not aliases:
            continue
        for status, response in operation.get("responses", {}).items():
            if str(status) in BEFORE_THE_QUERY or not isinstance(response, dict):
                continue
            headers = response.setdefault("headers", {})
            for name, value in DEPRECATION_HEADERS.items():
                headers.setdefault(
                    name,
                    {
                        "description": f"Only when the deprecated {' or '.join(aliases)} was sent.",
                        "schema": {"type": "string"},
                        "example": value,
                    },
                )


def _nullable_as_type_lists(document: dict) -> None:
    """``oneOf: [<formatted scalar>, {type: null}]`` becomes ``type: [<scalar type>, "null"]``
    with the scalar's keywords: the same JSON Schema 2020-12 meaning, in the form in which the
    ADR linter sees a date property's ``format`` (``/core/date-time/date-omit-time-portion``).
    Only a scalar with a ``format`` and no ``enum``/``const`` (which would then need null)."""

    def visit(node) -> None:
        if isinstance(node, dict):
            variants = node.get("oneOf")
            if (
                isinstance(variants, list)
                and len(variants) == 2
                and {"type": "null"} in variants
                and set(node) == {"oneOf"}
            ):
                (scalar,) = [v for v in variants if v != {"type": "null"}]
                if (
                    isinstance(scalar, dict)
                    and isinstance(scalar.get("type"), str)
                    and "format" in scalar
                    and not {"enum", "const", "$ref"} & set(scalar)
                ):
                    node.pop("oneOf")
                    node.update({**scalar, "type": [scalar["type"], "null"]})
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(document.get("components", {}).get("schemas", {}))
    for _, _, operation in _operations(document):
        visit(operation)


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
