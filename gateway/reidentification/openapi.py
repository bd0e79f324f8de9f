"""OpenAPI description of ``/api/v1/reidentifications`` (API.md section 7)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source, problem_response

UNAUTHORISED = problem_response("missing_token or invalid_token")
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
BODY_ERRORS = {
    "400": problem_response("invalid_json or invalid_parameter"),
    "413": problem_response("payload_too_large"),
    "415": problem_response("unsupported_media_type"),
}


def _json(name: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _decision(verb: str, body: str, required: bool) -> dict:
    return {
        "post": {
            "summary": f"{verb.capitalize()} a pending request of another organisation "
            "(operator only)",
            "operationId": f"{verb}Reidentification",
            "tags": ["reidentification"],
            "security": [{"oauth2": ["reidentify:approve"]}],
            "parameters": [ID],
            "requestBody": {"required": required, "content": _json(body)},
            "responses": {
                "200": {"description": "Decided", "content": _json("ReidentificationResponse")},
                **BODY_ERRORS,
                "401": UNAUTHORISED,
                "403": problem_response("insufficient_scope, not_operator or own_request"),
                "404": problem_response("not_found"),
                "409": problem_response("not_pending"),
                "422": problem_response("validation_failed"),
            },
        }
    }


@path_source
def reidentification_paths(spec: APISpec) -> None:
    spec.path(
        path="/api/v1/reidentifications",
        operations={
            "post": {
                "summary": "Ask for the BSN behind one of your own pseudonyms",
                "operationId": "requestReidentification",
                "tags": ["reidentification"],
                "security": [{"oauth2": ["reidentify:request"]}],
                "requestBody": {"required": True, "content": _json("ReidentificationRequest")},
                "responses": {
                    "202": {
                        "description": "Pending approval",
                        "content": _json("ReidentificationResponse"),
                    },
                    **BODY_ERRORS,
                    "401": UNAUTHORISED,
                    "403": problem_response("insufficient_scope"),
                    "422": problem_response("validation_failed or unknown_pseudonym"),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/reidentifications/{id}",
        operations={
            "get": {
                "summary": "The state of your request; the BSN once, in the first read after "
                "approval",
                "operationId": "getReidentification",
                "tags": ["reidentification"],
                "security": [{"oauth2": ["reidentify:request"]}],
                "parameters": [ID],
                "responses": {
                    "200": {"description": "State", "content": _json("ReidentificationResponse")},
                    "401": UNAUTHORISED,
                    "403": problem_response("insufficient_scope"),
                    "404": problem_response("not_found (also for another organisation's)"),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/reidentifications/{id}/approve",
        operations=_decision("approve", "ReidentificationApprove", False),
    )
    spec.path(
        path="/api/v1/reidentifications/{id}/refuse",
        operations=_decision("refuse", "ReidentificationRefuse", True),
    )
