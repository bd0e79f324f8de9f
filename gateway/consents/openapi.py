"""OpenAPI description of ``/api/v1/consents`` (API.md section 5, as section 13 amends it)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source, problem_response

UNAUTHORISED = problem_response("missing_token or invalid_token")
FORBIDDEN = problem_response("insufficient_scope")
NOT_FOUND = problem_response(
    "not_found: no such consent, or the caller may not see it (the same answer for both)"
)
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


def _post(summary: str, operation_id: str, scope: str, responses: dict, body: str, **extra) -> dict:
    """A POST with a JSON body of schema ``body``: the body problems join its ``responses``."""
    return {
        "post": _operation(
            summary,
            operation_id,
            scope,
            {**responses, **BODY_PROBLEMS},
            **extra,
            requestBody={"required": True, "content": _json(body)},
        )
    }


def _record() -> dict:
    return _post(
        "Record a consent (backdated and already-ended consents too)",
        "recordConsent",
        "consent:write",
        {
            "201": {
                "description": "Recorded, with its receipt",
                "content": _json("ConsentResponse"),
            },
            "422": problem_response("validation_failed or consent_grantor_invalid"),
        },
        "ConsentRequest",
        description=(
            "The age rule applies on valid_from: under 12 a parent or guardian; from "
            "the 12th to the 16th birthday a parent or guardian and the youth; from the "
            "16th birthday the youth. The receipt is a compact JWS (typ "
            "consent-receipt+jwt) verifiable with /oauth/jwks; its subject_ref is a "
            "keyed value made for this one consent, never the same for two consents "
            "of a child. A party given as an organisation type covers recipients of "
            "that type; an organisation of that type sends under the consent only a "
            "reply (in_reply_to) to an exchange it received under it. Any other send "
            "comes from the recorder or a party named by OIN. A consent that applies "
            "today replaces the same organisation's active consents for the same "
            "child, purpose and parties."
        ),
    )


def _withdraw() -> dict:
    return _post(
        "Withdraw a consent, at once (the recorder, a party named by OIN, the operator)",
        "withdrawConsent",
        "consent:write",
        {
            "200": {"description": "Withdrawn", "content": _json("ConsentResponse")},
            "403": problem_response(
                "insufficient_scope, or consent_withdraw_not_allowed: the caller sees "
                "the consent as a party named by type but may not withdraw it"
            ),
            "404": NOT_FOUND,
            "422": problem_response("validation_failed"),
        },
        "ConsentWithdraw",
        parameters=[ID_PARAMETER],
    )


def _search() -> dict:
    return _post(
        "A child's consents that the caller may learn of",
        "searchConsents",
        "consent:read",
        {
            "200": {"description": "A page", "content": _json("ConsentPage")},
            "422": problem_response("validation_failed"),
        },
        "ConsentSearch",
        description=(
            "By subject.bsn (or subject.polymorphic): the consents the caller "
            "recorded, and those naming the caller by OIN once it had this child's "
            "BSN from the gateway (received in clear) or sent it in an accepted "
            "exchange. By subject.pseudonym, the caller's own pseudonym of the child "
            "as delivered in its inbox: the consents the caller recorded or is named "
            "in by OIN, and those naming its type under which it received an "
            "exchange. A pseudonym not issued to the caller answers like a BSN no one "
            "used: an empty page."
        ),
    )


def _read() -> dict:
    return {
        "get": _operation(
            "A consent, for its recorder, parties named by OIN, organisations of a type "
            "party that received an exchange under it, and the operator",
            "getConsent",
            "consent:read",
            {
                "200": {"description": "The consent", "content": _json("ConsentResponse")},
                "404": NOT_FOUND,
            },
            parameters=[ID_PARAMETER],
        )
    }


PATHS = {
    "/api/v1/consents": _record,
    "/api/v1/consents/{id}/withdraw": _withdraw,
    "/api/v1/consents/search": _search,
    "/api/v1/consents/{id}": _read,
}
"""Each path and the function that describes its operations (fresh dicts on every call)."""


@path_source
def consent_paths(spec: APISpec) -> None:
    for path, operations in PATHS.items():
        spec.path(path=path, operations=operations())
    subject = spec.components.schemas.get("ConsentSearchSubject")
    if subject is not None:
        subject.update({"minProperties": 1, "maxProperties": 1})
