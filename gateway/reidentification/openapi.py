"""OpenAPI description of ``/api/v1/reidentifications`` (API.md section 7)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.examples import (
    DEMO_BSN,
    REIDENTIFICATION_ID,
    SWV_PSEUDONYM,
    example,
    examples,
    problem_example,
)
from ..docs.openapi import path_source, problem_response

UNAUTHORISED = problem_response("missing_token or invalid_token")
ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "example": REIDENTIFICATION_ID,
}

EXAMPLES = {
    "RequestReidentification": example(
        "The SWV asks for the BSN behind its own pseudonym",
        {
            "pseudonym": SWV_PSEUDONYM,
            "reason": "Aanmelding bij de commissie van toewijzing voor een plaats in het "
            "speciaal onderwijs vraagt het BSN van de leerling.",
            "legal_basis": "Wet op de expertisecentra art. 41a",
        },
    ),
    "ApproveReidentification": example(
        "Approved with a reason (the reason is optional)",
        {"reason": "Wettelijke grondslag en doel gecontroleerd; noodzakelijk voor toewijzing."},
    ),
    "ApproveWithoutReason": example("Approved without a reason", {}),
    "RefuseReidentification": example(
        "Refused (a reason is required)",
        {"reason": "Het doel kan ook met het pseudoniem worden bereikt."},
    ),
    "ReidentificationPending": example(
        "Pending approval by the operator", {"id": REIDENTIFICATION_ID, "status": "pending"}
    ),
    "ReidentificationApprovedWithBsn": example(
        "Approved: the BSN, in the first read after approval only",
        {"id": REIDENTIFICATION_ID, "status": "approved", "bsn": DEMO_BSN},
    ),
    "ReidentificationConsumed": example(
        "Read once already: no BSN any more", {"id": REIDENTIFICATION_ID, "status": "consumed"}
    ),
    "ReidentificationApproved": example(
        "Approved (the requester reads the BSN once)",
        {"id": REIDENTIFICATION_ID, "status": "approved"},
    ),
    "ReidentificationRefused": example("Refused", {"id": REIDENTIFICATION_ID, "status": "refused"}),
    "Problem.not_found.reidentification": problem_example(
        404,
        "not_found",
        "No re-identification request with this id.",
        f"/api/v1/reidentifications/{REIDENTIFICATION_ID}",
    ),
    "Problem.validation_failed.reidentification": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        "/api/v1/reidentifications",
        {"reason": ["This field is required."], "legal_basis": ["This field is required."]},
    ),
    "Problem.validation_failed.approval": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        f"/api/v1/reidentifications/{REIDENTIFICATION_ID}/approve",
        {"reason": ["Must not be blank."]},
    ),
    "Problem.unknown_pseudonym.reidentification": problem_example(
        422,
        "unknown_pseudonym",
        "The pseudonym is not one this gateway issued to your organisation.",
        "/api/v1/reidentifications",
        {"pseudonym": ["Not a pseudonym of your organisation."]},
    ),
    "Problem.validation_failed.refusal": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        f"/api/v1/reidentifications/{REIDENTIFICATION_ID}/refuse",
        {"reason": ["This field is required."]},
    ),
}
BODY_ERRORS = {
    "400": problem_response("invalid_json or invalid_parameter"),
    "413": problem_response("payload_too_large"),
    "415": problem_response("unsupported_media_type"),
}


def _json(name: str, *example_names: str) -> dict:
    media: dict = {"schema": {"$ref": f"#/components/schemas/{name}"}}
    if example_names:
        media["examples"] = examples(*example_names)
    return {"application/json": media}


DECISIONS = {
    "approve": (
        ("ApproveReidentification", "ApproveWithoutReason"),
        "ReidentificationApproved",
        "Problem.validation_failed.approval",
    ),
    "refuse": (
        ("RefuseReidentification",),
        "ReidentificationRefused",
        "Problem.validation_failed.refusal",
    ),
}
"""Per decision: the request examples, the answer's example and the 422's example."""


def _decision(verb: str, body: str, required: bool) -> dict:
    requests, answer, invalid = DECISIONS[verb]
    return {
        "post": {
            "summary": f"{verb.capitalize()} a pending request of another organisation "
            "(operator only)",
            "operationId": f"{verb}Reidentification",
            "tags": ["reidentification"],
            "security": [{"oauth2": ["reidentify:approve"]}],
            "parameters": [ID],
            "requestBody": {"required": required, "content": _json(body, *requests)},
            "responses": {
                "200": {
                    "description": "Decided",
                    "content": _json("ReidentificationResponse", answer),
                },
                **BODY_ERRORS,
                "401": UNAUTHORISED,
                "403": problem_response("insufficient_scope, not_operator or own_request"),
                "404": problem_response("not_found", "Problem.not_found.reidentification"),
                "409": problem_response("not_pending"),
                "422": problem_response("validation_failed", invalid),
            },
        }
    }


@path_source
def reidentification_paths(spec: APISpec) -> None:
    for name, component in EXAMPLES.items():
        spec.components.example(name, component)
    spec.path(
        path="/api/v1/reidentifications",
        operations={
            "post": {
                "summary": "Ask for the BSN behind one of your own pseudonyms",
                "operationId": "requestReidentification",
                "tags": ["reidentification"],
                "security": [{"oauth2": ["reidentify:request"]}],
                "requestBody": {
                    "required": True,
                    "content": _json("ReidentificationRequest", "RequestReidentification"),
                },
                "responses": {
                    "202": {
                        "description": "Pending approval",
                        "content": _json("ReidentificationResponse", "ReidentificationPending"),
                    },
                    **BODY_ERRORS,
                    "401": UNAUTHORISED,
                    "403": problem_response("insufficient_scope"),
                    "422": problem_response(
                        "validation_failed or unknown_pseudonym",
                        "Problem.validation_failed.reidentification",
                        "Problem.unknown_pseudonym.reidentification",
                    ),
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
                    "200": {
                        "description": "State",
                        "content": _json(
                            "ReidentificationResponse",
                            "ReidentificationPending",
                            "ReidentificationApprovedWithBsn",
                            "ReidentificationConsumed",
                            "ReidentificationRefused",
                        ),
                    },
                    "401": UNAUTHORISED,
                    "403": problem_response("insufficient_scope"),
                    "404": problem_response(
                        "not_found (also for another organisation's)",
                        "Problem.not_found.reidentification",
                    ),
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
