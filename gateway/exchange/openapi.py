"""OpenAPI description of ``/api/v1/exchanges`` and ``/api/v1/inbox``."""

from __future__ import annotations

from apispec import APISpec

from ..docs.examples import (
    CONTACT,
    DEMO_BSN,
    EXCHANGE_ID,
    FSC_TRANSACTION_ID,
    GGD,
    GGD_CONTACT,
    GGD_PSEUDONYM,
    LEERPLICHT,
    OTHER_BSN,
    REPLIED_EXCHANGE_ID,
    SCHOOL,
    SCHOOL_PSEUDONYM,
    SWV,
    SWV_PSEUDONYM,
    WIJ,
    WIJ_CONTACT,
    WIJ_PSEUDONYM,
    example,
    examples,
    organisation,
    problem_example,
)
from ..docs.openapi import path_source, problem_response


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(name: str, *example_names: str) -> dict:
    """A JSON body of the named component schema, with the named example components."""
    media: dict = {"schema": _ref(name)}
    if example_names:
        media["examples"] = examples(*example_names)
    return {"application/json": media}


UNAUTHORISED = problem_response("missing_token or invalid_token")
FORBIDDEN = problem_response("insufficient_scope")
ID_PARAMETER = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "example": EXCHANGE_ID,
}
OPTIONAL_OBJECT_BODY = {
    "required": False,
    "content": {
        "application/json": {"schema": {"type": "object"}, "examples": examples("EmptyBody")}
    },
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
        "example": "regenboog-2026-12-01-verzuim-0042",
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
        "example": FSC_TRANSACTION_ID,
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


BIRTH_DATE = "2016-10-27"
"""The demo child's date of birth: ten in the school year of the examples."""

SENDS = {
    "SendAbsenceReport": example(
        "absence_report, school -> leerplicht (legal obligation; BSN)",
        {
            "message_type": "absence_report",
            "recipient": LEERPLICHT,
            "subject": {"bsn": DEMO_BSN},
            "payload": {
                "absence_type": "relative",
                "start_date": "2026-11-16",
                "unauthorised_hours_4_weeks": 36,
                "reason_category": "unauthorised",
                "education_sector": "po",
                "school_brin": "12AB",
                "date_of_birth": BIRTH_DATE,
                "grade": "groep 6",
                "contact": CONTACT,
                "remarks": "Sinds de herfstvakantie vaak afwezig op maandag en dinsdag.",
            },
        },
    ),
    "SendSicknessAbsenceReferral": example(
        "sickness_absence_referral, school -> ggd (consent; MAZL)",
        {
            "message_type": "sickness_absence_referral",
            "recipient": GGD,
            "subject": {"bsn": OTHER_BSN},
            "payload": {
                "sick_days_12_weeks": 14,
                "sick_reports_12_weeks": 5,
                "education_sector": "vo",
                "date_of_birth": "2012-03-14",
                "concern": "Vaak ziek gemeld op maandag; mentor maakt zich zorgen.",
                "contact": CONTACT,
            },
        },
    ),
    "SendJgzAdvice": example(
        "jgz_advice, ggd -> school, a reply about a child known by pseudonym",
        {
            "message_type": "jgz_advice",
            "recipient": SCHOOL,
            "subject": {"pseudonym": GGD_PSEUDONYM},
            "payload": {
                "in_reply_to": REPLIED_EXCHANGE_ID,
                "advice": "adjusted_timetable",
                "contact": GGD_CONTACT,
            },
        },
    ),
    "SendSupportRequest": example(
        "support_request, school -> wij (consent)",
        {
            "message_type": "support_request",
            "recipient": WIJ,
            "subject": {"bsn": DEMO_BSN},
            "payload": {
                "concern_categories": ["family_situation", "wellbeing"],
                "urgency": "normal",
                "education_sector": "po",
                "date_of_birth": BIRTH_DATE,
                "contact": CONTACT,
            },
        },
    ),
    "SendSupportFeedback": example(
        "support_feedback, wij -> school, a reply",
        {
            "message_type": "support_feedback",
            "recipient": SCHOOL,
            "subject": {"pseudonym": WIJ_PSEUDONYM},
            "payload": {
                "in_reply_to": "ea9f4bdb-7f27-4716-a960-3f9362da1c00",
                "involvement": "in_progress",
                "contact": WIJ_CONTACT,
            },
        },
    ),
    "SendHomeboundReport": example(
        "homebound_report, leerplicht -> swv (legal obligation; placed again)",
        {
            "message_type": "homebound_report",
            "recipient": SWV,
            "subject": {"bsn": DEMO_BSN},
            "payload": {
                "category": "long_relative_absence",
                "since_date": "2026-09-28",
                "education_sector": "po",
                "date_of_birth": BIRTH_DATE,
                "perspective": "placed",
                "placed_date": "2026-11-30",
            },
        },
    ),
}
"""One request per shipped route (gateway/policies/routes.yaml), as its sender sends it."""

INBOX_ITEM = {
    "id": "38529252-6a00-4cac-b0f6-71aed08babca",
    "message_type": "absence_report",
    "sender": organisation(SCHOOL),
    "subject": {"bsn": DEMO_BSN},
    "payload": SENDS["SendAbsenceReport"]["value"]["payload"],
    "purpose": "leerplicht_enforcement",
    "legal_basis": {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"},
    "created_at": "2026-12-01T08:42:17.512804Z",
    "fsc_transaction_id": "01a24dc7-6239-7325-8a96-9512dc8ca8f5",
}

ANSWERS = {
    "ExchangeAccepted": example(
        "Accepted",
        {
            "id": EXCHANGE_ID,
            "status": "accepted",
            "message_type": "absence_report",
            "recipient": LEERPLICHT,
            "created_at": "2026-12-01T08:42:17.512804Z",
            "audit": {
                "seq": 1342,
                "hash": "4ff79947aa90c28b669cb6405fc49720d8ea9985beb5d3ad6ace2458eaa213a4",
            },
        },
    ),
    "ExchangeStatus": example(
        "Delivered, not yet acknowledged",
        {
            "id": EXCHANGE_ID,
            "message_type": "absence_report",
            "sender": SCHOOL,
            "recipient": LEERPLICHT,
            "status": "delivered",
            "created_at": "2026-12-01T08:42:17.512804Z",
            "delivered_at": "2026-12-01T08:45:02.118330Z",
            "acknowledged_at": None,
        },
    ),
    "InboxPageLeerplicht": example(
        "Leerplicht's inbox: the absence report, BSN and all fields (its route keeps all)",
        {"items": [INBOX_ITEM], "next_cursor": "czEzNDI"},
    ),
    "InboxPageSwv": example(
        "The SWV's inbox: a pseudonym and the minimised payload (birth_year), last page",
        {
            "items": [
                {
                    "id": "ff787265-ae98-4630-be88-c694642bd50e",
                    "message_type": "absence_report",
                    "sender": organisation(SCHOOL),
                    "subject": {"pseudonym": SWV_PSEUDONYM},
                    "payload": {
                        "absence_type": "relative",
                        "start_date": "2026-11-16",
                        "unauthorised_hours_4_weeks": 36,
                        "reason_category": "unauthorised",
                        "education_sector": "po",
                        "school_brin": "12AB",
                        "birth_year": 2016,
                    },
                    "purpose": "passend_onderwijs",
                    "legal_basis": {
                        "type": "legal_obligation",
                        "citation": "Wet passend onderwijs (zorgplicht)",
                    },
                    "created_at": "2026-12-01T08:42:17.601377Z",
                    "fsc_transaction_id": "01a24dc7-627d-7242-8524-6dfb77a36d96",
                },
                {
                    "id": "9cc7ea70-9180-4433-be19-f11da22bd594",
                    "message_type": "signal_match",
                    "sender": organisation("00000001006789012000"),
                    "subject": {"pseudonym": SWV_PSEUDONYM},
                    "payload": {
                        "signal_id": "ac4b4fdc-fdf3-4199-b71b-8160639a29f5",
                        "other_party": {
                            "oin": SCHOOL,
                            "name": "OBS De Regenboog",
                            "contact": CONTACT,
                        },
                        "matched_at": "2026-12-02T13:05:44.093112Z",
                    },
                    "purpose": "signal_matching",
                    "legal_basis": {
                        "type": "legal_obligation",
                        "citation": "Jeugdwet par. 7.1.1 (verwijsindex)",
                    },
                    "created_at": "2026-12-02T13:05:44.093112Z",
                    "fsc_transaction_id": "01a24dc7-67e5-7320-ad85-3643652793fe",
                },
            ],
            "next_cursor": None,
        },
    ),
    "InboxPageSchool": example(
        "The school's inbox: a GGD reply under the parents' consent",
        {
            "items": [
                {
                    "id": "b7e3c1f0-58a2-4d19-9c6e-0a4f2e8d7b13",
                    "message_type": "jgz_advice",
                    "sender": organisation(GGD),
                    "subject": {"pseudonym": SCHOOL_PSEUDONYM},
                    "payload": {
                        "in_reply_to": REPLIED_EXCHANGE_ID,
                        "advice": "adjusted_timetable",
                        "follow_up_date": "2027-01-11",
                        "contact": GGD_CONTACT,
                    },
                    "purpose": "mazl",
                    "legal_basis": {
                        "type": "consent",
                        "consent_id": "074d3cfe-0bc2-407d-8106-553f2d0ef17d",
                    },
                    "created_at": "2026-12-03T10:11:52.734019Z",
                    "fsc_transaction_id": "01a24dc9-0b31-7a44-9f0e-5c2d8b7e1a66",
                }
            ],
            "next_cursor": None,
        },
    ),
    "Acknowledged": example(
        "Acknowledged; the stored payload is erased",
        {
            "id": EXCHANGE_ID,
            "status": "acknowledged",
            "acknowledged_at": "2026-12-01T09:03:40.280455Z",
        },
    ),
}

PROBLEM_EXAMPLES = {
    "Problem.invalid_parameter.cursor": problem_example(
        400,
        "invalid_parameter",
        "The cursor is not valid.",
        "/api/v1/inbox",
        {"cursor": ["Not a cursor this API issued."]},
    ),
    "Problem.invalid_parameter.limit": problem_example(
        400,
        "invalid_parameter",
        "limit must be an integer from 1 to 500.",
        "/api/v1/inbox",
        {"limit": ["Must be 1..500."]},
    ),
}
"""The query-parameter problems of the lists (gateway.paging), shared with other areas."""


def _send() -> dict:
    return {
        "summary": "Send a case message about a child",
        "description": SEND_DESCRIPTION,
        "operationId": "sendExchange",
        "tags": ["exchanges"],
        "security": [{"oauth2": ["exchange:send"]}],
        "parameters": SEND_HEADERS,
        "requestBody": {
            "required": True,
            "content": json_content("ExchangeRequest", *SENDS),
        },
        "responses": {
            "202": {
                "description": "Accepted",
                "content": json_content("ExchangeAccepted", "ExchangeAccepted"),
            },
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
            "200": {
                "description": "Metadata",
                "content": json_content("ExchangeStatus", "ExchangeStatus"),
            },
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
            {
                "name": "cursor",
                "in": "query",
                "schema": {"type": "string"},
                "example": "czEzNDI",
            },
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
                "content": json_content(
                    "InboxPage", "InboxPageLeerplicht", "InboxPageSwv", "InboxPageSchool"
                ),
            },
            "400": problem_response(
                "invalid_parameter",
                "Problem.invalid_parameter.cursor",
                "Problem.invalid_parameter.limit",
                "Problem.invalid_parameter",
            ),
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
            "200": {
                "description": "Acknowledged",
                "content": json_content("AckResponse", "Acknowledged"),
            },
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
    for name, component in {**SENDS, **ANSWERS, **PROBLEM_EXAMPLES}.items():
        spec.components.example(name, component)
    spec.path(path="/api/v1/exchanges", operations={"post": _send()})
    spec.path(path="/api/v1/exchanges/{id}", operations={"get": _status()})
    spec.path(path="/api/v1/inbox", operations={"get": _inbox()})
    spec.path(path="/api/v1/inbox/{id}/ack", operations={"post": _ack()})
