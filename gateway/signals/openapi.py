"""OpenAPI description of ``/api/v1/signals`` (API.md section 6)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.examples import (
    CONTACT,
    DEMO_BSN,
    SIGNAL_ID,
    SWV_PSEUDONYM,
    example,
    problem_example,
)
from ..docs.openapi import path_source, problem_response
from ..exchange.openapi import (
    FORBIDDEN,
    ID_PARAMETER,
    OPTIONAL_OBJECT_BODY,
    UNAUTHORISED,
    json_content,
)

SIGNAL_ID_PARAMETER = {**ID_PARAMETER, "example": SIGNAL_ID}

EXAMPLES = {
    "OpenSignalByBsn": example(
        "A school signals its involvement, by BSN",
        {"subject": {"bsn": DEMO_BSN}, "category": "attendance", "contact": CONTACT},
    ),
    "OpenSignalByPseudonym": example(
        "The SWV signals about a child it knows by its own pseudonym",
        {
            "subject": {"pseudonym": SWV_PSEUDONYM},
            "category": "wellbeing",
            "contact": {
                "name": "Consulent passend onderwijs L. Smit",
                "email": "loket@swv-groningen.example.nl",
                "phone": "+31 50 123 4567",
            },
        },
    ),
    "SignalOpen": example(
        "Open (matching has run)",
        {"id": SIGNAL_ID, "status": "open", "created_at": "2026-12-02T13:05:43.567213Z"},
    ),
    "SignalClosed": example("Closed", {"id": SIGNAL_ID, "status": "closed"}),
    "Problem.validation_failed.signal": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        "/api/v1/signals",
        {
            "subject.bsn": ["is not a valid BSN"],
            "category": ["Must be one of: attendance, wellbeing, family_situation, safety, other."],
        },
    ),
    "Problem.not_found.signal": problem_example(
        404, "not_found", "No signal of yours with this id.", f"/api/v1/signals/{SIGNAL_ID}/close"
    ),
}

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
        "requestBody": {
            "required": True,
            "content": json_content("SignalRequest", "OpenSignalByBsn", "OpenSignalByPseudonym"),
        },
        "responses": {
            "201": {"description": "Open", "content": json_content("SignalResponse", "SignalOpen")},
            "400": problem_response("invalid_json or invalid_parameter"),
            "401": UNAUTHORISED,
            "403": problem_response("insufficient_scope or signal_not_allowed"),
            "413": problem_response("payload_too_large"),
            "415": problem_response("unsupported_media_type"),
            "422": problem_response(
                "validation_failed or unknown_pseudonym",
                "Problem.validation_failed.signal",
                "Problem.unknown_pseudonym",
            ),
        },
    }


def _close() -> dict:
    return {
        "summary": "Close your signal; closed signals match no more",
        "operationId": "closeSignal",
        "tags": ["signals"],
        "security": [{"oauth2": ["signal:write"]}],
        "parameters": [SIGNAL_ID_PARAMETER],
        "requestBody": OPTIONAL_OBJECT_BODY,
        "responses": {
            "200": {
                "description": "Closed",
                "content": json_content("SignalResponse", "SignalClosed"),
            },
            "400": problem_response("invalid_json"),
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
            "404": problem_response("not_found", "Problem.not_found.signal"),
            "415": problem_response("unsupported_media_type"),
        },
    }


@path_source
def signal_paths(spec: APISpec) -> None:
    for name, component in EXAMPLES.items():
        spec.components.example(name, component)
    spec.path(path="/api/v1/signals", operations={"post": _create()})
    spec.path(path="/api/v1/signals/{id}/close", operations={"post": _close()})
