"""OpenAPI description of ``/api/v1/exchanges`` and ``/api/v1/inbox``."""

from __future__ import annotations

from apispec import APISpec

from schemas.address import RoleAddressSchema
from schemas.vocabulary import (
    EXCHANGE_STATUSES,
    NOTICE_TYPES,
    PARTNER_MESSAGE_TYPES,
    PURPOSES,
    RETRACTION_REASONS,
)

from ..docs.examples import (
    CONTACT,
    DEMO_BSN,
    EXCHANGE_ID,
    FSC_TRANSACTION_ID,
    GGD,
    GGD_CONTACT,
    GGD_PSEUDONYM,
    LEERPLICHT,
    OPERATOR,
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
    "404": problem_response(
        "unknown_recipient (no organisation has the OIN) or recipient_unresolved (no "
        "organisation of the type serves the role address's area)",
        "Problem.unknown_recipient",
        "Problem.recipient_unresolved",
    ),
    "409": problem_response(
        "idempotency_key_reused (the key was used with another body), "
        "transaction_id_reused (the Fsc-Transaction-Id was passed on to another "
        "recipient organisation) or recipient_ambiguous (more than one organisation "
        "of the type serves the role address's area)",
        "Problem.idempotency_key_reused",
        "Problem.transaction_id_reused",
        "Problem.recipient_ambiguous",
    ),
    "413": problem_response("payload_too_large"),
    "415": problem_response("unsupported_media_type"),
    "422": problem_response(
        "validation_failed (also a role address of another shape, e.g. GM0014 at "
        "recipient.municipality), unknown_pseudonym or unknown_reference"
    ),
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

SENDS["SendAbsenceReportByRoleAddress"] = example(
    "absence_report, school -> the leerplicht office serving municipality 0014 (role address)",
    {
        **SENDS["SendAbsenceReport"]["value"],
        "recipient": {"type": "leerplicht", "municipality": "0014"},
    },
    "The recipient named by role and area instead of by OIN (docs/pact-workflows.md section "
    "6.1): the gateway resolves it through the registry before anything about the child is "
    "looked at, and the 202 answers the OIN it resolved to.",
)

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
            "recipient_address": None,
            "created_at": "2026-12-01T08:42:17.512804Z",
            "audit": {
                "seq": 1342,
                "hash": "4ff79947aa90c28b669cb6405fc49720d8ea9985beb5d3ad6ace2458eaa213a4",
            },
        },
    ),
    "ExchangeAcceptedByRoleAddress": example(
        "Accepted, sent to a role address",
        {
            "id": EXCHANGE_ID,
            "status": "accepted",
            "message_type": "absence_report",
            "recipient": LEERPLICHT,
            "recipient_address": {"type": "leerplicht", "municipality": "0014"},
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

ADDRESS_PROBLEMS = {
    "Problem.recipient_unresolved": problem_example(
        404,
        "recipient_unresolved",
        "No leerplicht organisation serves municipality 9999.",
        "/api/v1/exchanges",
        {"recipient": ["No leerplicht organisation serves municipality 9999."]},
    ),
    "Problem.recipient_ambiguous": problem_example(
        409,
        "recipient_ambiguous",
        "2 swv organisations serve region groningen; add education_sector or address one by OIN.",
        "/api/v1/exchanges",
        {
            "recipient": [
                "2 swv organisations serve region groningen; add education_sector or "
                "address one by OIN."
            ]
        },
    ),
}
"""The refusals of a role address (docs/pact-workflows.md section 6.1); they name the area,
never an OIN or a child."""

ROLE_ADDRESS_RULES = {
    "description": (
        "A recipient by role and area instead of by OIN: the one organisation of type "
        "serving the municipality (CBS gemeentecode, 4 digits, without GM) or the pact "
        "region, for education_sector where given (an organisation that lists no sectors "
        "serves all). A municipality is served directly or through the region it lies in. "
        "None: 404 recipient_unresolved; more than one: 409 recipient_ambiguous; the one "
        "found suspended: 403 recipient_suspended. The 202 answers the resolved OIN as "
        "recipient and the address as recipient_address."
    ),
    "oneOf": [
        {"required": ["municipality"], "not": {"required": ["region"]}},
        {"required": ["region"], "not": {"required": ["municipality"]}},
    ],
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


INBOX_DESCRIPTION = (
    "The inbox lists two kinds of item, told apart by message_type. A message "
    "(InboxItem) names the child as its route gives it. A notice (NoticeItem, "
    "message_type retraction or consent_withdrawn, from the operator organisation) "
    "tells the recipient about data it received (AVG art. 19): its subject is null "
    "and it names the child only by ids the recipient already holds (the exchange "
    "id it received; the consent id of its items' legal_basis and those exchanges' "
    "ids). Notices are listed, pushed and acknowledged exactly like messages; a "
    "client that does not know a message_type should keep the item for a person "
    "rather than drop it."
)


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
                "content": json_content(
                    "ExchangeAccepted", "ExchangeAccepted", "ExchangeAcceptedByRoleAddress"
                ),
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
        "description": INBOX_DESCRIPTION,
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
                    "InboxList",
                    "InboxPageLeerplicht",
                    "InboxPageSwv",
                    "InboxPageSchool",
                    "InboxPageRetraction",
                    "InboxPageConsentWithdrawn",
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
        "description": (
            "Messages and notices alike. A message its sender retracted cannot be "
            "acknowledged (409 exchange_retracted): confirm its erasure with "
            "POST /api/v1/exchanges/{id}/retraction/confirm."
        ),
        "responses": {
            "200": {
                "description": "Acknowledged",
                "content": json_content("AckResponse", "Acknowledged"),
            },
            "400": problem_response("invalid_json or invalid_parameter"),
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
            "404": problem_response("not_found"),
            "409": problem_response("exchange_retracted", "Problem.exchange_retracted"),
            "413": problem_response("payload_too_large"),
            "415": problem_response("unsupported_media_type"),
        },
    }


# retraction, correction and notices (issue 19) ---------------------------------------------

RETRACTED_AT = "2026-12-01T10:05:12.300114Z"
CORRECTING_ID = "c4a7e2d1-93b6-4f0a-8e25-6b1d0f3a9c77"
NOTICE_ID = "7d2e4b90-1c3f-4e8a-b5d6-0a9f8e7c6b54"


def _schema_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


RETRACTION_SCHEMAS = {
    "RetractionRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {
            "reason": {
                "type": "string",
                "enum": list(RETRACTION_REASONS),
                "description": "A code, passed on to the recipient in its notice.",
            },
            "remarks": {
                "type": "string",
                "maxLength": 500,
                "description": "For the operator's privacy officer (the breach register); "
                "never passed on.",
            },
            "corrected_by": {
                "type": "string",
                "maxLength": 36,
                "description": "The id of the sender's own exchange that corrects this one "
                "(a correction); may be named in a later, repeated retraction.",
            },
        },
    },
    "Retraction": {
        "type": "object",
        "required": [
            "exchange_id",
            "status",
            "reason",
            "retracted_at",
            "recipient_status",
            "payload_erased",
            "corrected_by",
            "confirmed_at",
            "audit",
        ],
        "properties": {
            "exchange_id": {"type": "string"},
            "status": {"type": "string", "enum": ["retracted"]},
            "reason": {"type": "string", "enum": list(RETRACTION_REASONS)},
            "retracted_at": {"type": "string", "format": "date-time"},
            "recipient_status": {
                "type": "string",
                "enum": [s for s in EXCHANGE_STATUSES if s != "retracted"],
                "description": "The exchange's status when it was retracted: delivered or "
                "acknowledged means the recipient had it.",
            },
            "payload_erased": {
                "type": "boolean",
                "description": "True when the gateway erased the payload before the "
                "recipient acknowledged it.",
            },
            "corrected_by": {"type": ["string", "null"]},
            "confirmed_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "When the recipient confirmed it erased its copy.",
            },
            "audit": _schema_ref("AuditRef"),
        },
    },
    "RetractionConfirmed": {
        "type": "object",
        "required": ["exchange_id", "status", "confirmed_at"],
        "properties": {
            "exchange_id": {"type": "string"},
            "status": {"type": "string", "enum": ["confirmed"]},
            "confirmed_at": {"type": "string", "format": "date-time"},
        },
    },
    "RetractionNotice": {
        "type": "object",
        "required": [
            "exchange_id",
            "message_type",
            "reason",
            "retracted_at",
            "payload_erased",
            "requested",
            "confirm",
        ],
        "properties": {
            "exchange_id": {"type": "string", "description": "The exchange you received."},
            "message_type": {"type": "string", "enum": list(PARTNER_MESSAGE_TYPES)},
            "reason": {"type": "string", "enum": list(RETRACTION_REASONS)},
            "retracted_at": {"type": "string", "format": "date-time"},
            "payload_erased": {
                "type": "boolean",
                "description": "The gateway erased it before you acknowledged it; if you "
                "had pulled it, erase your copy all the same.",
            },
            "requested": {"type": "string", "enum": ["erase_and_confirm"]},
            "confirm": {"type": "string", "description": "The path to confirm the erasure."},
        },
    },
    "ConsentWithdrawnNotice": {
        "type": "object",
        "required": ["consent_id", "withdrawn_at", "exchange_ids", "requested"],
        "properties": {
            "consent_id": {
                "type": "string",
                "description": "The consent_id of the legal_basis of the items you received.",
            },
            "withdrawn_at": {"type": "string", "format": "date-time"},
            "exchange_ids": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The exchanges your organisation received under it.",
            },
            "requested": {"type": "string", "enum": ["stop_processing_under_consent"]},
        },
    },
    "NoticeItem": {
        "type": "object",
        "description": "A notice in the inbox (AVG art. 19): no content about the child.",
        "required": [
            "id",
            "message_type",
            "sender",
            "subject",
            "payload",
            "purpose",
            "legal_basis",
            "created_at",
            "fsc_transaction_id",
        ],
        "properties": {
            "id": {"type": "string", "description": "The notice's own id (acknowledge it)."},
            "message_type": {"type": "string", "enum": list(NOTICE_TYPES)},
            "sender": _schema_ref("OrganisationRef"),
            "subject": {"type": "null"},
            "payload": {
                "oneOf": [_schema_ref("RetractionNotice"), _schema_ref("ConsentWithdrawnNotice")]
            },
            "purpose": {"type": "string", "enum": list(PURPOSES)},
            "legal_basis": _schema_ref("LegalBasis"),
            "created_at": {"type": "string", "format": "date-time"},
            "fsc_transaction_id": {"type": "string", "format": "uuid"},
        },
    },
    "InboxList": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {
                "type": "array",
                "items": {"oneOf": [_schema_ref("InboxItem"), _schema_ref("NoticeItem")]},
            },
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as cursor to get the next page; null on the last page.",
            },
        },
    },
}


def _notice(kind: str, payload: dict, purpose: str, created_at: str, transaction: str) -> dict:
    return {
        "id": NOTICE_ID,
        "message_type": kind,
        "sender": organisation(OPERATOR),
        "subject": None,
        "payload": payload,
        "purpose": purpose,
        "legal_basis": {
            "type": "legal_obligation",
            "citation": "AVG art. 19 (kennisgeving van rectificatie, wissing of beperking)",
        },
        "created_at": created_at,
        "fsc_transaction_id": transaction,
    }


RETRACTION_ANSWER = {
    "exchange_id": EXCHANGE_ID,
    "status": "retracted",
    "reason": "wrong_child",
    "retracted_at": RETRACTED_AT,
    "recipient_status": "delivered",
    "payload_erased": True,
    "corrected_by": CORRECTING_ID,
    "confirmed_at": None,
    "audit": {
        "seq": 1401,
        "hash": "9a0c5e1f3b7d2468ace013579bdf2468ace013579bdf2468ace013579bdf2468",
    },
}

RETRACTION_EXAMPLES = {
    "RetractWrongChild": example(
        "A message about the wrong child, corrected by a new exchange",
        {
            "reason": "wrong_child",
            "remarks": "Verkeerde leerling gekozen in het leerlingvolgsysteem.",
            "corrected_by": CORRECTING_ID,
        },
    ),
    "RetractIncorrectContent": example(
        "Incorrect content, no correction (yet)", {"reason": "incorrect_content"}
    ),
    "Retracted": example(
        "Retracted; the payload was erased before acknowledgement", RETRACTION_ANSWER
    ),
    "RetractionConfirmedByRecipient": example(
        "Retracted after acknowledgement; the recipient confirmed the erasure",
        {
            **RETRACTION_ANSWER,
            "recipient_status": "acknowledged",
            "payload_erased": False,
            "corrected_by": None,
            "confirmed_at": "2026-12-01T11:20:45.007311Z",
        },
    ),
    "RetractionConfirmed": example(
        "The recipient confirmed it erased its copy",
        {
            "exchange_id": EXCHANGE_ID,
            "status": "confirmed",
            "confirmed_at": "2026-12-01T11:20:45.007311Z",
        },
    ),
    "InboxPageRetraction": example(
        "The SWV's inbox after the school retracted a message (notice only)",
        {
            "items": [
                _notice(
                    "retraction",
                    {
                        "exchange_id": EXCHANGE_ID,
                        "message_type": "absence_report",
                        "reason": "wrong_child",
                        "retracted_at": RETRACTED_AT,
                        "payload_erased": True,
                        "requested": "erase_and_confirm",
                        "confirm": f"/api/v1/exchanges/{EXCHANGE_ID}/retraction/confirm",
                    },
                    "passend_onderwijs",
                    RETRACTED_AT,
                    "01a24dca-1f20-7b5e-9a41-3c8d2e6f0b17",
                )
            ],
            "next_cursor": None,
        },
    ),
    "InboxPageConsentWithdrawn": example(
        "The GGD's inbox after the parents withdrew their consent",
        {
            "items": [
                _notice(
                    "consent_withdrawn",
                    {
                        "consent_id": "074d3cfe-0bc2-407d-8106-553f2d0ef17d",
                        "withdrawn_at": "2026-12-04T15:20:11.402113Z",
                        "exchange_ids": [REPLIED_EXCHANGE_ID],
                        "requested": "stop_processing_under_consent",
                    },
                    "mazl",
                    "2026-12-04T15:20:11.402113Z",
                    "01a24dcb-77a0-7c12-8f3e-9d0b1a2c3e4f",
                )
            ],
            "next_cursor": None,
        },
    ),
    "Problem.exchange_retracted": problem_example(
        409,
        "exchange_retracted",
        "The sender retracted this exchange; confirm its erasure instead.",
        f"/api/v1/inbox/{EXCHANGE_ID}/ack",
    ),
    "Problem.exchange_not_retractable": problem_example(
        409,
        "exchange_not_retractable",
        "Only an exchange your organisation sent can be retracted.",
        f"/api/v1/exchanges/{EXCHANGE_ID}/retract",
    ),
    "Problem.retraction_conflict": problem_example(
        409,
        "retraction_conflict",
        "This retraction already names another correction.",
        f"/api/v1/exchanges/{EXCHANGE_ID}/retract",
    ),
    "Problem.unknown_reference.corrected_by": problem_example(
        422,
        "unknown_reference",
        "corrected_by must name another exchange your organisation sent.",
        f"/api/v1/exchanges/{EXCHANGE_ID}/retract",
        {"corrected_by": ["Not an exchange your organisation sent."]},
    ),
    "Problem.validation_failed.retract": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        f"/api/v1/exchanges/{EXCHANGE_ID}/retract",
        {"reason": ["This field is required."]},
    ),
}

RETRACT_DESCRIPTION = (
    "The sender takes back an exchange it sent (AVG art. 16, 17, 19), with a reason "
    "code. If the recipient had not acknowledged it, the payload is erased at once: the "
    "message leaves the inbox and is not pushed afterwards. Either way the recipient gets "
    "a retraction notice in its inbox naming only the exchange id it received, asking it "
    "to erase its copy and confirm. The exchange's status becomes retracted. A correction "
    "is a retraction plus a new exchange: send the correct message first and name it in "
    "corrected_by (now or in a repeated retraction); the audit log then holds "
    "exchange.correct on the new exchange with reason corrects:<retracted id>. Only the "
    "sending organisation may retract: any other caller gets 404 not_found, as for an id "
    "that does not exist. 201 the first time; a repeated retraction answers the stored "
    "one with 200 and notifies no one again. Audited as exchange.retract."
)


def _retract() -> dict:
    return {
        "summary": "Retract an exchange your organisation sent (and link its correction)",
        "description": RETRACT_DESCRIPTION,
        "operationId": "retractExchange",
        "tags": ["exchanges"],
        "security": [{"oauth2": ["exchange:send"]}],
        "parameters": [ID_PARAMETER],
        "requestBody": {
            "required": True,
            "content": json_content(
                "RetractionRequest", "RetractWrongChild", "RetractIncorrectContent"
            ),
        },
        "responses": {
            "200": {
                "description": "Already retracted: the stored retraction",
                "content": json_content("Retraction", "RetractionConfirmedByRecipient"),
            },
            "201": {
                "description": "Retracted",
                "content": json_content("Retraction", "Retracted"),
            },
            "400": problem_response("invalid_json or invalid_parameter"),
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
            "404": problem_response("not_found"),
            "409": problem_response(
                "exchange_not_retractable (a notice or a message the gateway made) or "
                "retraction_conflict (another correction is already named)",
                "Problem.exchange_not_retractable",
                "Problem.retraction_conflict",
            ),
            "413": problem_response("payload_too_large"),
            "415": problem_response("unsupported_media_type"),
            "422": problem_response(
                "validation_failed or unknown_reference (corrected_by)",
                "Problem.validation_failed.retract",
                "Problem.unknown_reference.corrected_by",
            ),
        },
    }


def _read_retraction() -> dict:
    return {
        "summary": "The retraction of an exchange (sender or recipient only)",
        "operationId": "getRetraction",
        "tags": ["exchanges"],
        "security": [{"oauth2": ["exchange:send"]}, {"oauth2": ["exchange:receive"]}],
        "parameters": [ID_PARAMETER],
        "responses": {
            "200": {
                "description": "The retraction and whether the recipient confirmed it",
                "content": json_content(
                    "Retraction", "Retracted", "RetractionConfirmedByRecipient"
                ),
            },
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
            "404": problem_response("not_found"),
        },
    }


def _confirm_retraction() -> dict:
    return {
        "summary": "Confirm that your copy of a retracted exchange is erased",
        "description": (
            "The recipient of a retracted exchange confirms (idempotent; the first "
            "confirmation's time is kept). Audited as exchange.retraction_confirm. The "
            "retraction notice itself is acknowledged like any inbox item."
        ),
        "operationId": "confirmRetraction",
        "tags": ["inbox"],
        "security": [{"oauth2": ["exchange:receive"]}],
        "parameters": [ID_PARAMETER],
        "requestBody": OPTIONAL_OBJECT_BODY,
        "responses": {
            "200": {
                "description": "Confirmed",
                "content": json_content("RetractionConfirmed", "RetractionConfirmed"),
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
    for name, component in {
        **SENDS,
        **ANSWERS,
        **PROBLEM_EXAMPLES,
        **ADDRESS_PROBLEMS,
        **RETRACTION_EXAMPLES,
    }.items():
        spec.components.example(name, component)
    for name, schema in RETRACTION_SCHEMAS.items():
        spec.components.schema(name, schema)
    if "RoleAddress" not in spec.components.schemas:
        spec.components.schema("RoleAddress", schema=RoleAddressSchema)
    spec.components.schemas["RoleAddress"].update(ROLE_ADDRESS_RULES)
    spec.path(path="/api/v1/exchanges/{id}/retract", operations={"post": _retract()})
    spec.path(path="/api/v1/exchanges/{id}/retraction", operations={"get": _read_retraction()})
    spec.path(
        path="/api/v1/exchanges/{id}/retraction/confirm",
        operations={"post": _confirm_retraction()},
    )
    spec.path(path="/api/v1/exchanges", operations={"post": _send()})
    spec.path(path="/api/v1/exchanges/{id}", operations={"get": _status()})
    spec.path(path="/api/v1/inbox", operations={"get": _inbox()})
    spec.path(path="/api/v1/inbox/{id}/ack", operations={"post": _ack()})
