"""OpenAPI description of ``/api/v1/consents`` (API.md section 5)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source, problem_response

UNAUTHORISED = problem_response("missing_token or invalid_token")
FORBIDDEN = problem_response("insufficient_scope")
NOT_FOUND = problem_response("not_found: no such consent, or not a party or the recorder")
ID_PARAMETER = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
BODY_PROBLEMS = {
    "400": problem_response("invalid_json or invalid_parameter"),
    "413": problem_response("payload_too_large"),
    "415": problem_response("unsupported_media_type"),
}


def _json(name: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _operation(summary: str, operation_id: str, scope: str, responses: dict, **extra) -> dict:
    return {
        "summary": summary,
        "operationId": operation_id,
        "tags": ["consents"],
        "security": [{"oauth2": [scope]}],
        "responses": {"401": UNAUTHORISED, "403": FORBIDDEN, **responses},
        **extra,
    }


@path_source
def consent_paths(spec: APISpec) -> None:
    spec.path(
        path="/api/v1/consents",
        operations={
            "post": _operation(
                "Record a consent (backdated and already-ended consents too)",
                "recordConsent",
                "consent:write",
                {
                    "201": {
                        "description": "Recorded, with its receipt",
                        "content": _json("ConsentResponse"),
                    },
                    "422": problem_response("validation_failed or consent_grantor_invalid"),
                    **BODY_PROBLEMS,
                },
                description=(
                    "The age rule applies on valid_from: under 12 a parent or guardian; from "
                    "the 12th to the 16th birthday a parent or guardian and the youth; from the "
                    "16th birthday the youth. The receipt is a compact JWS (typ "
                    "consent-receipt+jwt) verifiable with /oauth/jwks."
                ),
                requestBody={"required": True, "content": _json("ConsentRequest")},
            )
        },
    )
    spec.path(
        path="/api/v1/consents/{id}/withdraw",
        operations={
            "post": _operation(
                "Withdraw a consent, at once (any party or the recorder)",
                "withdrawConsent",
                "consent:write",
                {
                    "200": {"description": "Withdrawn", "content": _json("ConsentResponse")},
                    "404": NOT_FOUND,
                    "422": problem_response("validation_failed"),
                    **BODY_PROBLEMS,
                },
                parameters=[ID_PARAMETER],
                requestBody={"required": True, "content": _json("ConsentWithdraw")},
            )
        },
    )
    spec.path(
        path="/api/v1/consents/search",
        operations={
            "post": _operation(
                "The child's consents that name the caller's organisation or its type",
                "searchConsents",
                "consent:read",
                {
                    "200": {"description": "A page", "content": _json("ConsentPage")},
                    "422": problem_response("validation_failed"),
                    **BODY_PROBLEMS,
                },
                requestBody={"required": True, "content": _json("ConsentSearch")},
            )
        },
    )
    spec.path(
        path="/api/v1/consents/{id}",
        operations={
            "get": _operation(
                "A consent, for its parties and its recorder",
                "getConsent",
                "consent:read",
                {
                    "200": {"description": "The consent", "content": _json("ConsentResponse")},
                    "404": NOT_FOUND,
                },
                parameters=[ID_PARAMETER],
            )
        },
    )
