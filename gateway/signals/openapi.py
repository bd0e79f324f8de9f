"""OpenAPI description of ``/api/v1/signals`` (API.md section 6)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source, problem_response
from ..exchange.openapi import (
    FORBIDDEN,
    ID_PARAMETER,
    OPTIONAL_OBJECT_BODY,
    UNAUTHORISED,
    json_content,
)

CREATE_DESCRIPTION = (
    "Matching is immediate: for every other organisation with an open signal "
    "on the same child, each side gets one signal_match in its inbox from the "
    "operator, naming the other party and the contact in its signal, never "
    "its category; at most one per pair while both have an open signal. "
    "Only the organisation types of the signal policy may signal (else 403 "
    "signal_not_allowed). Opening and closing signals share one allowance "
    "per organisation (GATEWAY_RATE_LIMIT_SIGNALS, default 30/hour;200/day; "
    "429 too_many_requests with Retry-After). A signal closed with no exchange "
    "about the child by your organisation since it was opened is counted as "
    "a possible probe."
)


def _create() -> dict:
    return {
        "summary": "Signal that your organisation is involved with a child",
        "description": CREATE_DESCRIPTION,
        "operationId": "createSignal",
        "tags": ["signals"],
        "security": [{"oauth2": ["signal:write"]}],
        "requestBody": {"required": True, "content": json_content("SignalRequest")},
        "responses": {
            "201": {"description": "Open", "content": json_content("SignalResponse")},
            "400": problem_response("invalid_json or invalid_parameter"),
            "401": UNAUTHORISED,
            "403": problem_response("insufficient_scope or signal_not_allowed"),
            "413": problem_response("payload_too_large"),
            "415": problem_response("unsupported_media_type"),
            "422": problem_response("validation_failed or unknown_pseudonym"),
        },
    }


def _close() -> dict:
    return {
        "summary": "Close your signal; closed signals match no more",
        "operationId": "closeSignal",
        "tags": ["signals"],
        "security": [{"oauth2": ["signal:write"]}],
        "parameters": [ID_PARAMETER],
        "requestBody": OPTIONAL_OBJECT_BODY,
        "responses": {
            "200": {"description": "Closed", "content": json_content("SignalResponse")},
            "400": problem_response("invalid_json"),
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
            "404": problem_response("not_found"),
            "415": problem_response("unsupported_media_type"),
        },
    }


@path_source
def signal_paths(spec: APISpec) -> None:
    spec.path(path="/api/v1/signals", operations={"post": _create()})
    spec.path(path="/api/v1/signals/{id}/close", operations={"post": _close()})
