"""OpenAPI description of ``/api/v1/cases`` (docs/pact-workflows.md section 7).

The examples are the design's (sections 3.4 and 4.3) with the sandbox's organisations. The
request bodies are described inline: the gateway's own checks are ``schemas.cases`` and, for
an opening's ``payload``, the message schema of ``case_invitation`` or
``exemption_advice_request`` (their components are in the exchange's part of the document).
"""

from __future__ import annotations

from apispec import APISpec

from schemas.vocabulary import (
    AGREEMENT_ACTIONS,
    CASE_CLOSE_REASONS,
    CASE_KINDS,
    CASE_STATUSES,
    CONVENER_CLOSE_REASONS,
    DECLINE_REASONS,
    EXEMPTION_DECISIONS,
    PARTICIPANT_ROLES,
)

from ..docs.examples import (
    CONTACT,
    DEMO_BSN,
    FSC_TRANSACTION_ID,
    GGD,
    LEERPLICHT,
    SCHOOL,
    SWV,
    WIJ,
    example,
    examples,
    organisation,
    problem_example,
)
from ..docs.openapi import path_source, problem_response

OIN = {"type": "string", "pattern": "^[0-9]{20}$"}
REF = {
    "type": "string",
    "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
}
TIME = {"type": "string", "format": "date-time"}
DAY = {"type": "string", "format": "date"}
UUID = {"type": "string", "format": "uuid"}


def _null(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


ORG = {
    "type": "object",
    "required": ["oin", "name", "type"],
    "properties": {"oin": OIN, "name": {"type": "string"}, "type": {"type": "string"}},
}
PARTY = {
    "oneOf": [
        ORG,
        {
            "type": "object",
            "required": ["role"],
            "properties": {"role": {"type": "string", "enum": ["parents", "youth"]}},
            "additionalProperties": False,
        },
    ]
}
AUDIT_REF = {
    "type": "object",
    "required": ["seq", "hash"],
    "properties": {"seq": {"type": "integer"}, "hash": {"type": "string"}},
}
ADVICE = {
    "type": "object",
    "required": ["medical", "education"],
    "properties": {"medical": _null({"type": "string"}), "education": _null({"type": "string"})},
}
AGREEMENT = {
    "type": "object",
    "required": ["no", "party", "action", "due_date"],
    "properties": {
        "no": {"type": "integer", "minimum": 1},
        "party": PARTY,
        "action": {"type": "string", "enum": list(AGREEMENT_ACTIONS)},
        "due_date": DAY,
        "status": {"type": "string"},
        "done_at": _null(TIME),
    },
}

SCHEMAS = {
    "CaseOpened": {
        "type": "object",
        "required": ["case_ref", "kind", "status", "created_at", "participants", "audit"],
        "properties": {
            "case_ref": REF,
            "kind": {"type": "string", "enum": list(CASE_KINDS)},
            "status": {"type": "string", "enum": list(CASE_STATUSES)},
            "created_at": TIME,
            "participants": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["oin", "name", "type", "status", "exchange_id", "resolved_from"],
                    "properties": {
                        **ORG["properties"],
                        "status": {"type": "string"},
                        "exchange_id": UUID,
                        "resolved_from": _null({"type": "object"}),
                    },
                },
            },
            "audit": AUDIT_REF,
        },
    },
    "CaseSummary": {
        "type": "object",
        "required": ["case_ref", "kind", "status", "role", "created_at", "updated_at"],
        "properties": {
            "case_ref": REF,
            "kind": {"type": "string", "enum": list(CASE_KINDS)},
            "status": {"type": "string", "enum": list(CASE_STATUSES)},
            "role": {"type": "string", "enum": list(PARTICIPANT_ROLES)},
            "created_at": TIME,
            "updated_at": TIME,
        },
    },
    "CaseList": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/CaseSummary"}},
            "next_cursor": _null({"type": "string"}),
        },
    },
    "Case": {
        "type": "object",
        "description": "The view of the caller's role (design 3.2, 4.1); never the subject.",
        "required": [
            "case_ref",
            "kind",
            "role",
            "status",
            "created_at",
            "updated_at",
            "closed_at",
            "close_reason",
        ],
        "properties": {
            "case_ref": REF,
            "kind": {"type": "string", "enum": list(CASE_KINDS)},
            "role": {"type": "string", "enum": list(PARTICIPANT_ROLES)},
            "status": {"type": "string", "enum": list(CASE_STATUSES)},
            "created_at": TIME,
            "updated_at": TIME,
            "closed_at": _null(TIME),
            "close_reason": _null({"type": "string", "enum": list(CASE_CLOSE_REASONS)}),
            "meeting": _null({"type": "object"}),
            "convener": _null(ORG),
            "participants": {"type": "array", "items": {"type": "object"}},
            "its_status": {"type": "string"},
            "invitation_exchange_id": _null(UUID),
            "regie": _null(ORG),
            "agreements": {"type": "array", "items": AGREEMENT},
            "next_review_date": _null(DAY),
            "requested_on": _null(DAY),
            "advice": ADVICE,
            "decision": _null({"type": "string", "enum": list(EXEMPTION_DECISIONS)}),
            "decided_on": _null(DAY),
            "valid_until": _null(DAY),
            "request_exchange_id": _null(UUID),
            "answer_exchange_id": _null(UUID),
        },
    },
    "CaseAnswered": {
        "type": "object",
        "required": ["case_ref", "status", "responded_at"],
        "properties": {
            "case_ref": REF,
            "status": {"type": "string", "enum": ["accepted", "declined"]},
            "responded_at": TIME,
        },
    },
    "CaseAgreed": {
        "type": "object",
        "required": ["case_ref", "status", "agreements", "delivered", "not_delivered", "audit"],
        "properties": {
            "case_ref": REF,
            "status": {"type": "string", "enum": ["agreed"]},
            "agreements": {"type": "array", "items": AGREEMENT},
            "delivered": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["oin", "exchange_id"],
                    "properties": {"oin": OIN, "exchange_id": UUID},
                },
            },
            "not_delivered": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["participant", "reason"],
                    "properties": {"participant": ORG, "reason": {"type": "string"}},
                },
            },
            "audit": AUDIT_REF,
        },
    },
    "CaseAgreementDone": {
        "type": "object",
        "required": ["case_ref", "no", "status", "done_at"],
        "properties": {
            "case_ref": REF,
            "no": {"type": "integer"},
            "status": {"type": "string", "enum": ["done"]},
            "done_at": TIME,
        },
    },
    "CaseDecided": {
        "type": "object",
        "required": ["case_ref", "status", "decision", "decided_on", "advice", "audit"],
        "properties": {
            "case_ref": REF,
            "status": {"type": "string", "enum": ["decided"]},
            "decision": {"type": "string", "enum": list(EXEMPTION_DECISIONS)},
            "decided_on": DAY,
            "advice": ADVICE,
            "audit": AUDIT_REF,
        },
    },
    "CaseClosed": {
        "type": "object",
        "required": ["case_ref", "status", "closed_at", "close_reason"],
        "properties": {
            "case_ref": REF,
            "status": {"type": "string", "enum": ["closed"]},
            "closed_at": TIME,
            "close_reason": {"type": "string", "enum": list(CASE_CLOSE_REASONS)},
        },
    },
}

ENTRY = {
    "oneOf": [
        OIN,
        {"type": "object", "description": 'A role address, e.g. {"type": "leerplicht", ...}'},
    ]
}
OPEN_BODY = {
    "type": "object",
    "required": ["kind", "subject", "payload"],
    "properties": {
        "kind": {"type": "string", "enum": ["consultation", "exemption_advice"]},
        "subject": {"type": "object", "description": "bsn, or your own pseudonym"},
        "invite": {"type": "array", "items": ENTRY, "minItems": 1, "maxItems": 8},
        "advisers": {"type": "array", "items": ENTRY, "minItems": 1, "maxItems": 2},
        "payload": {
            "type": "object",
            "description": "case_invitation (consultation) or exemption_advice_request "
            "(exemption_advice)",
        },
    },
}
AGREEMENTS_BODY = {
    "type": "object",
    "required": ["regie", "agreements", "next_review_date"],
    "properties": {
        "regie": OIN,
        "agreements": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["party", "action", "due_date"],
                "properties": {
                    "party": {
                        "oneOf": [OIN, {"type": "string", "enum": ["school", "parents", "youth"]}]
                    },
                    "action": {"type": "string", "enum": list(AGREEMENT_ACTIONS)},
                    "due_date": DAY,
                },
            },
        },
        "next_review_date": DAY,
    },
}

CASE_REF = "5f0c1d2e-8a44-4b1e-9d0f-2b7c4e1a9f10"
GGD_REF = "3b9a7c52-1e0f-4d8a-a6b2-9c4d5e6f7a81"
CREATED = "2027-03-02T09:15:00Z"
INVITE_IDS = {
    GGD: "0b6d2f4e-8c1a-4e3b-9d5f-7a2c6e8b1d40",
    LEERPLICHT: "7e21c9a3-5b4d-4f6e-8a1c-3d5e7f9b2c64",
    SWV: "c3f9e1d7-2a6b-4c8e-b0d4-6f8a1c3e5b72",
    WIJ: "91aa4c6e-8d2f-4b1a-9e3c-5d7f9a1b3c86",
}
MEETING = {"date": "2027-03-12", "time": "14:30", "mode": "in_person"}
SWV_BY_REGION = {"type": "swv", "region": "groningen", "education_sector": "po"}
LEERPLICHT_BY_AREA = {"type": "leerplicht", "municipality": "0014"}
LEERPLICHT_CONTACT = {
    "name": "L. Bakker, leerplichtambtenaar",
    "email": "leerplicht@groningen.example.nl",
}


def _participant(oin: str, resolved_from=None) -> dict:
    return organisation(oin) | {
        "status": "invited",
        "exchange_id": INVITE_IDS[oin],
        "resolved_from": resolved_from,
    }


AGREEMENTS_DELIVERED = [
    {"no": 1, "party": organisation(GGD), "action": "jgz_consultation", "due_date": "2027-03-26"},
    {
        "no": 2,
        "party": organisation(SCHOOL),
        "action": "adjusted_timetable",
        "due_date": "2027-03-19",
    },
    {
        "no": 3,
        "party": {"role": "parents"},
        "action": "attend_conversation",
        "due_date": "2027-03-19",
    },
]

EXAMPLES = {
    "CaseOpenConsultation": example(
        "A school invites the GGD, leerplicht, the SWV (by role address) and the WIJ",
        {
            "kind": "consultation",
            "subject": {"bsn": DEMO_BSN},
            "invite": [GGD, LEERPLICHT_BY_AREA, SWV_BY_REGION, WIJ],
            "payload": {
                "meeting": MEETING,
                "question": "prevent_dropout",
                "concern_categories": ["wellbeing", "family_situation"],
                "education_sector": "po",
                "school_brin": "12AB",
                "date_of_birth": "2014-05-02",
                "unauthorised_hours_4_weeks": 16,
                "sick_days_12_weeks": 9,
                "respond_by": "2027-03-10",
                "contact": CONTACT,
            },
        },
    ),
    "CaseOpenByOin": example(
        "A school invites the GGD and leerplicht by OIN",
        {
            "kind": "consultation",
            "subject": {"bsn": DEMO_BSN},
            "invite": [GGD, LEERPLICHT],
            "payload": {
                "meeting": {"date": "2027-03-12", "mode": "online"},
                "question": "return_to_school",
                "concern_categories": ["wellbeing"],
                "education_sector": "po",
                "school_brin": "12AB",
                "date_of_birth": "2014-05-02",
                "respond_by": "2027-03-10",
                "contact": CONTACT,
            },
        },
    ),
    "CaseOpenExemption": example(
        "Leerplicht asks the GGD and the SWV for advice on an exemption",
        {
            "kind": "exemption_advice",
            "subject": {"bsn": DEMO_BSN},
            "advisers": [GGD, SWV_BY_REGION],
            "payload": {
                "school_year": "2027-2028",
                "requested_on": "2027-05-20",
                "education_sector": "po",
                "date_of_birth": "2014-05-02",
                "enrolment": "enrolled",
                "school_brin": "12AB",
                "statement_by": "physician",
                "respond_by": "2027-06-17",
                "contact": LEERPLICHT_CONTACT,
            },
        },
    ),
    "CaseOpened": example(
        "The consultation is open: one invitation per invitee, each with its own exchange id",
        {
            "case_ref": CASE_REF,
            "kind": "consultation",
            "status": "open",
            "created_at": CREATED,
            "participants": [
                _participant(GGD),
                _participant(LEERPLICHT, LEERPLICHT_BY_AREA),
                _participant(SWV, SWV_BY_REGION),
                _participant(WIJ),
            ],
            "audit": {"seq": 1042, "hash": "9c1e" + "0" * 60},
        },
    ),
    "CaseList": example(
        "The caller's participations, newest first",
        {
            "items": [
                {
                    "case_ref": GGD_REF,
                    "kind": "consultation",
                    "status": "agreed",
                    "role": "invitee",
                    "created_at": CREATED,
                    "updated_at": "2027-03-12T16:00:00Z",
                }
            ],
            "next_cursor": None,
        },
    ),
    "CaseConvener": example(
        "The school's view after the WIJ declined and the agreements were recorded",
        {
            "case_ref": CASE_REF,
            "kind": "consultation",
            "role": "convener",
            "status": "agreed",
            "created_at": CREATED,
            "updated_at": "2027-03-12T16:00:00Z",
            "closed_at": None,
            "close_reason": None,
            "meeting": MEETING,
            "participants": [
                organisation(GGD)
                | {
                    "status": "accepted",
                    "organisation_status": "active",
                    "responded_at": "2027-03-03T08:00:00Z",
                    "decline_reason": None,
                    "exchange_id": INVITE_IDS[GGD],
                },
                organisation(WIJ)
                | {
                    "status": "declined",
                    "organisation_status": "active",
                    "responded_at": "2027-03-03T10:00:00Z",
                    "decline_reason": "not_involved",
                    "exchange_id": INVITE_IDS[WIJ],
                },
            ],
            "regie": organisation(LEERPLICHT),
            "agreements": [dict(AGREEMENTS_DELIVERED[0], status="open", done_at=None)],
            "next_review_date": "2027-04-16",
        },
    ),
    "CaseAccept": example("Accept, with the contact for the meeting", {"contact": CONTACT}),
    "CaseDecline": example("Decline", {"reason": "not_involved"}),
    "CaseAnswered": example(
        "Declined",
        {"case_ref": GGD_REF, "status": "declined", "responded_at": "2027-03-03T10:00:00Z"},
    ),
    "CaseAgreements": example(
        "The outcome of the meeting",
        {
            "regie": LEERPLICHT,
            "agreements": [
                {"party": "school", "action": "adjusted_timetable", "due_date": "2027-03-19"},
                {"party": GGD, "action": "jgz_consultation", "due_date": "2027-03-26"},
                {"party": "parents", "action": "attend_conversation", "due_date": "2027-03-19"},
            ],
            "next_review_date": "2027-04-16",
        },
    ),
    "CaseAgreed": example(
        "Recorded and sent to every accepted participant",
        {
            "case_ref": CASE_REF,
            "status": "agreed",
            "agreements": AGREEMENTS_DELIVERED,
            "delivered": [{"oin": GGD, "exchange_id": "e8013c5a-7d9b-4e2f-a1c3-5b7d9f1a3c58"}],
            "not_delivered": [{"participant": organisation(WIJ), "reason": "recipient_suspended"}],
            "audit": {"seq": 1077, "hash": "4ab2" + "0" * 60},
        },
    ),
    "CaseAgreementDone": example(
        "Agreement 1 done",
        {"case_ref": GGD_REF, "no": 1, "status": "done", "done_at": "2027-03-25T11:00:00Z"},
    ),
    "CaseDecision": example(
        "Not exempted", {"decision": "not_exempted", "decided_on": "2027-06-20"}
    ),
    "CaseDecided": example(
        "Decided with both advice outcomes",
        {
            "case_ref": CASE_REF,
            "status": "decided",
            "decision": "not_exempted",
            "decided_on": "2027-06-20",
            "advice": {"medical": "fit_with_adjustments", "education": "available_with_conditions"},
            "audit": {"seq": 2210, "hash": "77d0" + "0" * 60},
        },
    ),
    "CaseClose": example("Completed", {"reason": "completed"}),
    "CaseClosed": example(
        "Closed",
        {
            "case_ref": CASE_REF,
            "status": "closed",
            "closed_at": "2027-04-16T15:00:00Z",
            "close_reason": "completed",
        },
    ),
    "EmptyCaseAction": example("No body needed: {} or nothing", {}),
}

CASE_PATH = f"/api/v1/cases/{CASE_REF}"
PROBLEMS = {
    "Problem.case_action_not_allowed": problem_example(
        403, "case_action_not_allowed", "Only the convener records this.", CASE_PATH + "/agreements"
    ),
    "Problem.case_closed": problem_example(
        409, "case_closed", "The case is closed.", CASE_PATH + "/accept"
    ),
    "Problem.case_already_answered": problem_example(
        409,
        "case_already_answered",
        "Your organisation already answered otherwise.",
        CASE_PATH + "/accept",
    ),
    "Problem.unknown_participant": problem_example(
        422,
        "unknown_participant",
        "The agreements name an unknown participant.",
        CASE_PATH + "/agreements",
        {"agreements.0.party": ["Not a participant that accepted."]},
    ),
    "Problem.not_found.case": problem_example(
        404, "not_found", "No case with this reference.", CASE_PATH
    ),
}


def _problems(status: str, *codes: str) -> dict:
    """A problem answer naming ``codes``, one example each (the case's own, or shared)."""
    names = [
        "Problem.not_found.case" if code == "not_found" else f"Problem.{code}" for code in codes
    ]
    return problem_response(" or ".join(codes), *names)


def _json(schema: dict | str, *names: str) -> dict:
    media: dict = {
        "schema": {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    }
    if names:
        media["examples"] = examples(*names)
    return {"application/json": media}


REF_PARAMETER = {
    "name": "case_ref",
    "in": "path",
    "required": True,
    "description": "Your organisation's own reference of the case.",
    "schema": {"type": "string"},
}
TRANSACTION_HEADER = {
    "name": "Fsc-Transaction-Id",
    "in": "header",
    "required": False,
    "description": "Passed on with the first invitation only; every other message of the "
    "case request gets a fresh UUIDv7 (one transaction id per recipient, rule 1).",
    "schema": {"type": "string", "format": "uuid"},
    "example": FSC_TRANSACTION_ID,
}
READ_SECURITY = [{"oauth2": ["exchange:send"]}, {"oauth2": ["exchange:receive"]}]
WRITE_SECURITY = [{"oauth2": ["exchange:send"]}]
BODY_PROBLEMS = {
    "400": _problems("400", "invalid_json", "invalid_parameter"),
    "401": _problems("401", "missing_token", "invalid_token"),
    "413": _problems("413", "payload_too_large"),
    "415": _problems("415", "unsupported_media_type"),
}


def _open() -> dict:
    return {
        "summary": "Open a case: a consultation (school) or an exemption advice (leerplicht)",
        "description": (
            "Checks: token, scope, body, Idempotency-Key, the body's schema, then for every "
            "invitee (adviser) the exchange's own steps (recipient, transaction id, route, "
            "payload schema, subject, legal basis). One refusal refuses the whole case; "
            "nothing is stored and no invitee learns anything. See "
            "docs/pact-workflows.md sections 3 and 4."
        ),
        "operationId": "openCase",
        "tags": ["cases"],
        "security": WRITE_SECURITY,
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"},
                "example": "regenboog-2027-03-02-overleg-0007",
            },
            TRANSACTION_HEADER,
        ],
        "requestBody": {
            "required": True,
            "content": _json(
                OPEN_BODY, "CaseOpenConsultation", "CaseOpenByOin", "CaseOpenExemption"
            ),
        },
        "responses": {
            "201": {
                "description": "Opened",
                "content": _json("CaseOpened", "CaseOpened"),
                "links": {
                    name: {
                        "operationId": operation,
                        "parameters": {"case_ref": "$response.body#/case_ref"},
                    }
                    for name, operation in (
                        ("GetCase", "getCase"),
                        ("RecordAgreements", "recordCaseAgreements"),
                        ("CloseCase", "closeCase"),
                    )
                },
            },
            "400": _problems(
                "400",
                "invalid_json",
                "invalid_parameter",
                "idempotency_key_missing",
                "idempotency_key_invalid",
            ),
            "401": _problems("401", "missing_token", "invalid_token"),
            "403": _problems(
                "403",
                "insufficient_scope",
                "recipient_suspended",
                "route_not_allowed",
                "consent_missing",
                "consent_withdrawn",
                "consent_expired",
            ),
            "404": _problems("404", "unknown_recipient", "recipient_unresolved"),
            "409": _problems(
                "409", "idempotency_key_reused", "transaction_id_reused", "recipient_ambiguous"
            ),
            "413": BODY_PROBLEMS["413"],
            "415": BODY_PROBLEMS["415"],
            "422": _problems("422", "validation_failed", "unknown_pseudonym", "unknown_reference"),
        },
    }


def _list() -> dict:
    return {
        "summary": "The caller's own cases, newest first (no subject, no participants)",
        "operationId": "listCases",
        "tags": ["cases"],
        "security": READ_SECURITY,
        "parameters": [
            {
                "name": "kind",
                "in": "query",
                "schema": {"type": "string", "enum": list(CASE_KINDS)},
            },
            {
                "name": "status",
                "in": "query",
                "schema": {"type": "string", "enum": list(CASE_STATUSES)},
            },
            {"name": "cursor", "in": "query", "schema": {"type": "string"}, "example": "YzQy"},
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                "example": 50,
            },
        ],
        "responses": {
            "200": {
                "description": "A page",
                "content": _json("CaseList", "CaseList"),
                "links": {
                    "GetFirstCase": {
                        "operationId": "getCase",
                        "parameters": {"case_ref": "$response.body#/items/0/case_ref"},
                    }
                },
            },
            "400": _problems("400", "invalid_parameter"),
            "401": _problems("401", "missing_token", "invalid_token"),
            "403": _problems("403", "insufficient_scope"),
        },
    }


def _read() -> dict:
    return {
        "summary": "One case as the caller's role sees it (audited as case.read)",
        "operationId": "getCase",
        "tags": ["cases"],
        "security": READ_SECURITY,
        "parameters": [REF_PARAMETER],
        "responses": {
            "200": {"description": "The case", "content": _json("Case", "CaseConvener")},
            "400": _problems("400", "invalid_parameter"),
            "401": _problems("401", "missing_token", "invalid_token"),
            "403": _problems("403", "insufficient_scope"),
            "404": _problems("404", "not_found"),
        },
    }


def _action(
    operation_id: str,
    summary: str,
    body: dict | None,
    body_examples: tuple[str, ...],
    status: str,
    answer: str,
    forbidden: tuple[str, ...] = ("insufficient_scope", "case_action_not_allowed"),
    conflicts: tuple[str, ...] = ("case_closed",),
    unprocessable: tuple[str, ...] = ("validation_failed",),
    parameters: tuple[dict, ...] = (),
) -> dict:
    responses = {
        status: {"description": summary, "content": _json(answer, answer)},
        **BODY_PROBLEMS,
        "403": _problems("403", *forbidden),
        "404": _problems("404", "not_found"),
    }
    if conflicts:
        responses["409"] = _problems("409", *conflicts)
    if unprocessable:
        responses["422"] = _problems("422", *unprocessable)
    return {
        "summary": summary,
        "operationId": operation_id,
        "tags": ["cases"],
        "security": WRITE_SECURITY,
        "parameters": [REF_PARAMETER, *parameters],
        "requestBody": {
            "required": body is not None and "required" in body,
            "content": _json(body or {"type": "object"}, *body_examples),
        },
        "responses": responses,
    }


CONSENT_ENDED = ("consent_missing", "consent_withdrawn", "consent_expired")


@path_source
def case_paths(spec: APISpec) -> None:
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for name, component in {**EXAMPLES, **PROBLEMS}.items():
        spec.components.example(name, component)
    spec.path(path="/api/v1/cases", operations={"post": _open(), "get": _list()})
    spec.path(path="/api/v1/cases/{case_ref}", operations={"get": _read()})
    accept_body = {"type": "object", "properties": {"contact": {"type": "object"}}}
    spec.path(
        path="/api/v1/cases/{case_ref}/accept",
        operations={
            "post": _action(
                "acceptCase",
                "Accept the invitation (sends case_response to the convener)",
                accept_body,
                ("CaseAccept", "EmptyCaseAction"),
                "200",
                "CaseAnswered",
                forbidden=("insufficient_scope", "case_action_not_allowed", *CONSENT_ENDED),
                conflicts=("case_already_answered", "case_closed"),
                unprocessable=("validation_failed", "unknown_pseudonym", "unknown_reference"),
            )
        },
    )
    spec.path(
        path="/api/v1/cases/{case_ref}/decline",
        operations={
            "post": _action(
                "declineCase",
                "Decline the invitation with a reason code (sends case_response)",
                {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {"reason": {"type": "string", "enum": list(DECLINE_REASONS)}},
                },
                ("CaseDecline",),
                "200",
                "CaseAnswered",
                forbidden=("insufficient_scope", "case_action_not_allowed", *CONSENT_ENDED),
                conflicts=("case_already_answered", "case_closed"),
                unprocessable=("validation_failed", "unknown_pseudonym", "unknown_reference"),
            )
        },
    )
    spec.path(
        path="/api/v1/cases/{case_ref}/agreements",
        operations={
            "post": _action(
                "recordCaseAgreements",
                "Record the agreements (sends case_agreements to every accepted participant)",
                AGREEMENTS_BODY,
                ("CaseAgreements",),
                "201",
                "CaseAgreed",
                forbidden=(
                    "insufficient_scope",
                    "case_action_not_allowed",
                    "route_not_allowed",
                    *CONSENT_ENDED,
                ),
                unprocessable=(
                    "validation_failed",
                    "unknown_participant",
                    "unknown_pseudonym",
                ),
            )
        },
    )
    spec.path(
        path="/api/v1/cases/{case_ref}/agreements/{no}/done",
        operations={
            "post": _action(
                "markCaseAgreementDone",
                "Mark your agreement done",
                None,
                ("EmptyCaseAction",),
                "200",
                "CaseAgreementDone",
                forbidden=("insufficient_scope",),
                unprocessable=(),
                parameters=(
                    {
                        "name": "no",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ),
            )
        },
    )
    spec.path(
        path="/api/v1/cases/{case_ref}/decision",
        operations={
            "post": _action(
                "decideCase",
                "Record leerplicht's decision on the exemption (closes the case)",
                {
                    "type": "object",
                    "required": ["decision", "decided_on"],
                    "properties": {
                        "decision": {"type": "string", "enum": list(EXEMPTION_DECISIONS)},
                        "decided_on": DAY,
                        "valid_until": DAY,
                    },
                },
                ("CaseDecision",),
                "200",
                "CaseDecided",
            )
        },
    )
    spec.path(
        path="/api/v1/cases/{case_ref}/close",
        operations={
            "post": _action(
                "closeCase",
                "Close the consultation (convener only; repeat answers the same)",
                {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {
                        "reason": {"type": "string", "enum": list(CONVENER_CLOSE_REASONS)}
                    },
                },
                ("CaseClose",),
                "200",
                "CaseClosed",
                conflicts=(),
            )
        },
    )
