"""OpenAPI description of ``/api/v1/consents`` (API.md section 5, as section 13 amends it)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.examples import (
    CONSENT_ID,
    DEMO_BSN,
    OTHER_BSN,
    SCHOOL,
    WIJ_PSEUDONYM,
    example,
    examples,
    problem_example,
)
from ..docs.openapi import path_source, problem_response

UNAUTHORISED = problem_response("missing_token or invalid_token")
FORBIDDEN = problem_response("insufficient_scope")
NOT_FOUND = problem_response(
    "not_found: no such consent, or the caller may not see it (the same answer for both)",
    "Problem.not_found.consent",
)
ID_PARAMETER = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "example": CONSENT_ID,
}
RECEIPT = (
    "eyJ0eXAiOiJjb25zZW50LXJlY2VpcHQrand0IiwiYWxnIjoiRVMyNTYiLCJraWQiOiJyZWNlaXB0LTIwMjYxMjAx"
    "VDAwMDAwMC03NWRkNDRmOSJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwMDAiLCJpYXQiOjE3OTYxMTQ0MDU"
    "sImp0aSI6IjA3NGQzY2ZlLTBiYzItNDA3ZC04MTA2LTU1M2YyZDBlZjE3ZCIsInN1YmplY3RfcmVmIjoiQWJLOFl"
    "DZmNuRHREWFFBYml4MGpWaGdELVhHZUJDUjRMUSIsInB1cnBvc2UiOiJzdXBwb3J0IiwicGFydGllcyI6WyJzY2h"
    "vb2wiLCJ3aWoiXSwiZ3JhbnRvcl9yb2xlcyI6WyJwYXJlbnQiXSwidmFsaWRfZnJvbSI6IjIwMjYtMTItMDEiLCJ"
    "2YWxpZF91bnRpbCI6IjIwMjctMDctMzEiLCJldmlkZW5jZV9tZXRob2QiOiJ3cml0dGVuIiwicmVjb3JkZWRfYnk"
    "iOiIwMDAwMDAwMTAwMTIzNDU2NzAwMCJ9.xVMYMJ5NrLdGbGGfb0khU22SEwlTX04p6ulRP5IkT_1gch68WUoCo_"
    "sEl2BzN8wokPJ8-jzkcESCITv0u04euQ"
)
"""A receipt as the gateway signs one (the signature is the sandbox key's)."""

CONSENT = {
    "id": CONSENT_ID,
    "status": "active",
    "purpose": "support",
    "parties": ["school", "wij"],
    "valid_from": "2026-12-01",
    "valid_until": "2027-07-31",
    "created_at": "2026-12-01T08:40:05.136581Z",
    "receipt": RECEIPT,
    "withdrawn_at": None,
}

EXAMPLES = {
    "RecordConsentSupport": example(
        "A parent's written consent for support by WIJ (child of ten)",
        {
            "subject": {"bsn": DEMO_BSN},
            "date_of_birth": "2016-10-27",
            "purpose": "support",
            "parties": ["school", "wij"],
            "granted_by": [{"role": "parent"}],
            "valid_from": "2026-12-01",
            "valid_until": "2027-07-31",
            "evidence": {"method": "written", "reference": "TZ-2026-0415"},
        },
    ),
    "RecordConsentMazl": example(
        "Parent and youth (14) consent to MAZL with the school and the GGD, by OIN",
        {
            "subject": {"bsn": OTHER_BSN},
            "date_of_birth": "2012-03-14",
            "purpose": "mazl",
            "parties": [SCHOOL, "00000001003456789000"],
            "granted_by": [{"role": "parent"}, {"role": "youth"}],
            "valid_from": "2026-11-20",
            "valid_until": "2027-11-19",
            "evidence": {"method": "digital", "reference": "MAZL-formulier 2026/118"},
        },
    ),
    "Consent": example("An active consent with its receipt", CONSENT),
    "ConsentWithdrawn": example(
        "Withdrawn at the parent's request",
        {**CONSENT, "status": "withdrawn", "withdrawn_at": "2026-12-04T15:20:11.402113Z"},
    ),
    "WithdrawConsent": example(
        "The parent withdraws",
        {
            "withdrawn_by": {"role": "parent"},
            "reason": "Ouder trekt toestemming in per telefoon op 4 december 2026.",
        },
    ),
    "SearchConsentsByBsn": example(
        "By BSN, first page", {"subject": {"bsn": DEMO_BSN}, "limit": 20}
    ),
    "SearchConsentsByPseudonym": example(
        "By the caller's own pseudonym (WIJ), next page",
        {"subject": {"pseudonym": WIJ_PSEUDONYM}, "cursor": "YzU3", "limit": 20},
    ),
    "ConsentPage": example("One consent, the last page", {"items": [CONSENT], "next_cursor": None}),
    "ConsentPageEmpty": example(
        "Nothing the caller may learn of (also for a pseudonym not issued to it)",
        {"items": [], "next_cursor": None},
    ),
    "Problem.not_found.consent": problem_example(
        404, "not_found", "No consent with this id.", f"/api/v1/consents/{CONSENT_ID}"
    ),
    "Problem.validation_failed.withdraw": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        f"/api/v1/consents/{CONSENT_ID}/withdraw",
        {"reason": ["This field is required."]},
    ),
    "Problem.validation_failed.search": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        "/api/v1/consents/search",
        {"subject": ["Must hold exactly one of bsn, pseudonym or polymorphic."]},
    ),
    "Problem.validation_failed.consent": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        "/api/v1/consents",
        {
            "subject.bsn": ["is not a valid BSN"],
            "valid_until": ["Must be on or after valid_from."],
        },
    ),
}
BODY_PROBLEMS = {
    "400": problem_response("invalid_json or invalid_parameter"),
    "413": problem_response("payload_too_large"),
    "415": problem_response("unsupported_media_type"),
}


def _json(name: str, *example_names: str) -> dict:
    media: dict = {"schema": {"$ref": f"#/components/schemas/{name}"}}
    if example_names:
        media["examples"] = examples(*example_names)
    return {"application/json": media}


def _operation(summary: str, operation_id: str, scope: str, responses: dict, **extra) -> dict:
    return {
        "summary": summary,
        "operationId": operation_id,
        "tags": ["consents"],
        "security": [{"oauth2": [scope]}],
        "responses": {"401": UNAUTHORISED, "403": FORBIDDEN, **responses},
        **extra,
    }


def _post(
    summary: str, operation_id: str, scope: str, responses: dict, body: tuple, **extra
) -> dict:
    """A POST with a JSON body of ``body`` (its schema, then its examples): the body
    problems join its ``responses``."""
    return {
        "post": _operation(
            summary,
            operation_id,
            scope,
            {**responses, **BODY_PROBLEMS},
            **extra,
            requestBody={"required": True, "content": _json(*body)},
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
                "content": _json("ConsentResponse", "Consent"),
            },
            "422": problem_response(
                "validation_failed or consent_grantor_invalid",
                "Problem.validation_failed.consent",
                "Problem.consent_grantor_invalid",
            ),
        },
        ("ConsentRequest", "RecordConsentSupport", "RecordConsentMazl"),
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


WITHDRAW_DESCRIPTION = (
    "AVG art. 19: every other organisation that received data under the consent gets a "
    "consent_withdrawn notice in its inbox (GET /api/v1/inbox, NoticeItem; pushed where it "
    "has a delivery_url), once: its payload names the consent_id (already in the "
    "legal_basis of every item it received under the consent), the withdrawal time and "
    "the ids of the exchanges that organisation received under it, and nothing else; its "
    "subject is null. Organisations that received nothing under this consent are not told. "
    "The organisation that withdraws is not told (this answer tells it). A repeated "
    "withdrawal adds only notices still missing. Audited as exchange.notify per notice."
)


def _withdraw() -> dict:
    return _post(
        "Withdraw a consent, at once (the recorder, a party named by OIN, the operator)",
        "withdrawConsent",
        "consent:write",
        {
            "200": {
                "description": "Withdrawn",
                "content": _json("ConsentResponse", "ConsentWithdrawn"),
            },
            "403": problem_response(
                "insufficient_scope, or consent_withdraw_not_allowed: the caller sees "
                "the consent as a party named by type but may not withdraw it"
            ),
            "404": NOT_FOUND,
            "422": problem_response("validation_failed", "Problem.validation_failed.withdraw"),
        },
        ("ConsentWithdraw", "WithdrawConsent"),
        parameters=[ID_PARAMETER],
        description=WITHDRAW_DESCRIPTION,
    )


def _search() -> dict:
    return _post(
        "A child's consents that the caller may learn of",
        "searchConsents",
        "consent:read",
        {
            "200": {
                "description": "A page",
                "content": _json("ConsentPage", "ConsentPage", "ConsentPageEmpty"),
            },
            "422": problem_response("validation_failed", "Problem.validation_failed.search"),
        },
        ("ConsentSearch", "SearchConsentsByBsn", "SearchConsentsByPseudonym"),
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
                "200": {
                    "description": "The consent",
                    "content": _json("ConsentResponse", "Consent"),
                },
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
    for name, component in EXAMPLES.items():
        spec.components.example(name, component)
    for path, operations in PATHS.items():
        spec.path(path=path, operations=operations())
    subject = spec.components.schemas.get("ConsentSearchSubject")
    if subject is not None:
        subject.update({"minProperties": 1, "maxProperties": 1})
