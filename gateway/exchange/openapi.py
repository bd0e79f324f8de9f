"""OpenAPI description of ``/api/v1/exchanges`` and ``/api/v1/inbox``."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source, problem_response


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(name: str) -> dict:
    """A JSON body of the named component schema."""
    return {"application/json": {"schema": _ref(name)}}


UNAUTHORISED = problem_response("missing_token or invalid_token")
FORBIDDEN = problem_response("insufficient_scope")
ID_PARAMETER = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
OPTIONAL_OBJECT_BODY = {
    "required": False,
    "content": {"application/json": {"schema": {"type": "object"}}},
}
"""The body of an action on a resource (ack, close): none, or any JSON object."""

SEND_DESCRIPTION = (
    "Checks run in the order of the contract: token, scope, body, "
    "Idempotency-Key, envelope, recipient, transaction id, route, payload "
    "schema, subject, legal basis; then the subject is pseudonymised for the "
    "recipient, the payload minimised, and the message and its audit event "
    "stored together. A sender's Fsc-Transaction-Id is passed on to one "
    "recipient organisation only: once an id was passed to a recipient, a "
    "send with that id to another recipient is refused with 409 "
    "transaction_id_reused (the same id to the same recipient, and an "
    "idempotent replay, are allowed). Trace context headers (traceparent, "
    "tracestate, baggage) are never passed on to a recipient."
)
SEND_HEADERS = [
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"},
    },
    {
        "name": "Fsc-Transaction-Id",
        "in": "header",
        "required": False,
        "description": (
            "Made by the gateway (UUIDv7) when absent. Passed on with the "
            "message to its recipient, and to no other recipient organisation: "
            "reusing it for another recipient is 409 transaction_id_reused."
        ),
        "schema": {"type": "string", "format": "uuid"},
    },
]
SEND_PROBLEMS = {
    "400": problem_response(
        "invalid_json, invalid_parameter, idempotency_key_missing or idempotency_key_invalid"
    ),
    "401": UNAUTHORISED,
    "403": problem_response(
        "insufficient_scope, recipient_suspended, route_not_allowed, "
        "consent_missing, consent_withdrawn or consent_expired"
    ),
    "404": problem_response("unknown_recipient"),
    "409": problem_response(
        "idempotency_key_reused (the key was used with another body) or "
        "transaction_id_reused (the Fsc-Transaction-Id was passed on to another "
        "recipient organisation)"
    ),
    "413": problem_response("payload_too_large"),
    "415": problem_response("unsupported_media_type"),
    "422": problem_response("validation_failed, unknown_pseudonym or unknown_reference"),
}


def _send() -> dict:
    return {
        "summary": "Send a case message about a child",
        "description": SEND_DESCRIPTION,
        "operationId": "sendExchange",
        "tags": ["exchanges"],
        "security": [{"oauth2": ["exchange:send"]}],
        "parameters": SEND_HEADERS,
        "requestBody": {"required": True, "content": json_content("ExchangeRequest")},
        "responses": {
            "202": {"description": "Accepted", "content": json_content("ExchangeAccepted")},
            **SEND_PROBLEMS,
        },
    }


def _status() -> dict:
    return {
        "summary": "Status of an exchange (sender or recipient only)",
        "operationId": "getExchange",
        "tags": ["exchanges"],
        "security": [{"oauth2": ["exchange:send"]}, {"oauth2": ["exchange:receive"]}],
        "parameters": [ID_PARAMETER],
        "responses": {
            "200": {"description": "Metadata", "content": json_content("ExchangeStatus")},
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
            "404": problem_response("not_found"),
        },
    }


def _inbox() -> dict:
    return {
        "summary": "Messages for the caller's organisation, oldest first",
        "operationId": "listInbox",
        "tags": ["inbox"],
        "security": [{"oauth2": ["exchange:receive"]}],
        "parameters": [
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 500},
            },
        ],
        "responses": {
            "200": {"description": "A page", "content": json_content("InboxPage")},
            "400": problem_response("invalid_parameter"),
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
        },
    }


def _ack() -> dict:
    return {
        "summary": "Acknowledge a message; its stored payload is erased",
        "operationId": "ackInboxItem",
        "tags": ["inbox"],
        "security": [{"oauth2": ["exchange:receive"]}],
        "parameters": [ID_PARAMETER],
        "requestBody": OPTIONAL_OBJECT_BODY,
        "responses": {
            "200": {"description": "Acknowledged", "content": json_content("AckResponse")},
            "400": problem_response("invalid_json or invalid_parameter"),
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
            "404": problem_response("not_found"),
            "413": problem_response("payload_too_large"),
            "415": problem_response("unsupported_media_type"),
        },
    }


@path_source
def exchange_paths(spec: APISpec) -> None:
    spec.path(path="/api/v1/exchanges", operations={"post": _send()})
    spec.path(path="/api/v1/exchanges/{id}", operations={"get": _status()})
    spec.path(path="/api/v1/inbox", operations={"get": _inbox()})
    spec.path(path="/api/v1/inbox/{id}/ack", operations={"post": _ack()})
