"""OpenAPI description of the register of processing activities (AVG article 30)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.examples import example, examples, problem_example
from ..docs.openapi import path_source, problem_response
from .ids import PATH

API_VERSION_HEADER = {
    "API-Version": {
        "description": "The full version of the API (semantic versioning)",
        "schema": {"type": "string"},
        "example": "1.1.0",
    }
}
ACTIVITY_ID = "passend_onderwijs.absence_report.school-swv"
BASE_URL = "http://127.0.0.1:8000"

_CODE_TEXT = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    "required": ["code", "description"],
    "additionalProperties": False,
}
_TYPES = {"type": "array", "items": {"type": "string"}}

ACTIVITY_SCHEMA = {
    "type": "object",
    "description": (
        "One processing activity (AVG article 30(1)): purpose, legal basis, data subjects, "
        "personal data, recipients, retention, security measures and the roles of controller "
        "and processor. Codes are the contract's vocabularies (API.md); texts are English."
    ),
    "properties": {
        "id": {
            "type": "string",
            "description": (
                "Stable across restarts and deployments, made from what the activity is: "
                "'<purpose>.<message_type>.<sender_type>-<recipient_type>' for a route, "
                "'<purpose>.<message_type>.gateway' for a message the gateway generates, "
                "'gateway.<activity>' for the gateway's own processing"
            ),
        },
        "uri": {
            "type": "string",
            "format": "uri",
            "description": "The activity's URI: the Logboek's dpl.core.processing_activity_id",
        },
        "kind": {"type": "string", "enum": ["route", "generated_message", "gateway"]},
        "name": {"type": "string"},
        "purpose": _CODE_TEXT,
        "legal_basis": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["legal_obligation", "consent"]},
                "citation": {"type": ["string", "null"]},
                "description": {"type": "string"},
            },
            "required": ["type", "citation", "description"],
            "additionalProperties": False,
        },
        "message_type": {"type": ["string", "null"]},
        "route": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "properties": {
                        "sender_type": {"type": "string"},
                        "recipient_type": {"type": "string"},
                    },
                    "required": ["sender_type", "recipient_type"],
                    "additionalProperties": False,
                },
            ]
        },
        "data_subjects": {"type": "array", "items": _CODE_TEXT},
        "personal_data": {
            "type": "object",
            "description": (
                "For a route, what its recipient profile gives the recipient: the fields kept "
                "as sent, generalised (to which field), dropped, added by the gateway, and the "
                "form of the child's identity; for the gateway's own processing, the items it "
                "keeps"
            ),
            "properties": {
                "identity": {"type": "string", "enum": ["bsn", "pseudonym", "none"]},
                "identity_description": {"type": "string"},
                "polymorphic_allowed": {"type": "boolean"},
                "kept": _TYPES,
                "generalised": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "as": {"type": "string"}},
                        "required": ["field", "as"],
                        "additionalProperties": False,
                    },
                },
                "dropped": _TYPES,
                "added_by_gateway": _TYPES,
            },
            "required": [
                "identity",
                "identity_description",
                "polymorphic_allowed",
                "kept",
                "generalised",
                "dropped",
                "added_by_gateway",
            ],
            "additionalProperties": False,
        },
        "recipients": {**_TYPES, "description": "Organisation types that receive the data"},
        "retention": {
            "type": "object",
            "properties": {
                "days": {"type": ["integer", "null"], "minimum": 1},
                "counted_from": {
                    "type": "string",
                    "enum": ["send", "end", "close", "decision", "event", "session_start"],
                },
                "audit_reference_days": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "properties": {
                                "min": {"type": "integer"},
                                "max": {"type": "integer"},
                            },
                            "required": ["min", "max"],
                            "additionalProperties": False,
                        },
                    ]
                },
                "description": {"type": "string"},
            },
            "required": ["days", "counted_from", "audit_reference_days", "description"],
            "additionalProperties": False,
        },
        "security_measures": {"type": "array", "items": _CODE_TEXT},
        "roles": {
            "type": "object",
            "properties": {
                "controllers": _TYPES,
                "joint_controllers": {"type": "boolean"},
                "processor": {"type": "string"},
                "description": {"type": "string"},
            },
            "required": ["controllers", "joint_controllers", "processor", "description"],
            "additionalProperties": False,
        },
    },
    "required": [
        "id",
        "uri",
        "kind",
        "name",
        "purpose",
        "legal_basis",
        "message_type",
        "route",
        "data_subjects",
        "personal_data",
        "recipients",
        "retention",
        "security_measures",
        "roles",
    ],
    "additionalProperties": False,
}
REGISTER_SCHEMA = {
    "type": "object",
    "properties": {
        "activities": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ProcessingActivity"},
        }
    },
    "required": ["activities"],
    "additionalProperties": False,
}

ACTIVITY = {
    "id": ACTIVITY_ID,
    "uri": f"{BASE_URL}{PATH}/{ACTIVITY_ID}",
    "kind": "route",
    "name": "Absence report from a school to a samenwerkingsverband (SWV)",
    "purpose": {
        "code": "passend_onderwijs",
        "description": "The samenwerkingsverband's duty of care for a suitable place in "
        "education (zorgplicht)",
    },
    "legal_basis": {
        "type": "legal_obligation",
        "citation": "Wet passend onderwijs (zorgplicht)",
        "description": "A legal obligation of the controller (AVG art. 6 lid 1 onder c)",
    },
    "message_type": "absence_report",
    "route": {"sender_type": "school", "recipient_type": "swv"},
    "data_subjects": [
        {
            "code": "children",
            "description": "Children of compulsory school age (and young people up to 23)",
        }
    ],
    "personal_data": {
        "identity": "pseudonym",
        "identity_description": "A pseudonym (the recipient's own, or the gateway's internal "
        "one); never the BSN",
        "polymorphic_allowed": True,
        "kept": [
            "absence_type",
            "start_date",
            "unauthorised_hours_4_weeks",
            "reason_category",
            "education_sector",
            "school_brin",
        ],
        "generalised": [{"field": "date_of_birth", "as": "birth_year"}],
        "dropped": ["grade", "contact", "remarks"],
        "added_by_gateway": [],
    },
    "recipients": ["swv"],
    "retention": {
        "days": 365,
        "counted_from": "send",
        "audit_reference_days": {"min": 1826, "max": 1826},
        "description": "Erased 365 days after the send; the audit events keep the child "
        "reference 1826 days (gateway/policies/retention.yaml), then it is crypto-shredded",
    },
    "security_measures": [
        {
            "code": "minimisation",
            "description": "The recipient gets only the fields of its profile; dates of birth "
            "become a birth year where the profile says so",
        },
        {
            "code": "pseudonymisation",
            "description": "The recipient gets its own stable pseudonym for the child, never "
            "the BSN, unless the legal basis names the BSN",
        },
    ],
    "roles": {
        "controllers": ["school", "swv"],
        "joint_controllers": False,
        "processor": "operator",
        "description": "The sending organisation for the sending and the receiving "
        "organisation for what it receives, each under its own statutory task or the consent "
        "given to it; the gateway's operator processes on their behalf (AVG article 28)",
    },
}

EXAMPLES = {
    "ProcessingActivity": example(
        "A route: the absence report a school sends to the samenwerkingsverband (shipped "
        "policy; security measures shortened)",
        ACTIVITY,
    ),
    "ProcessingActivities": example(
        "The register (shortened to one activity)", {"activities": [ACTIVITY]}
    ),
    "Problem.not_found.processing_activity": problem_example(
        404, "not_found", "No such processing activity.", f"{PATH}/leerplicht.unknown"
    ),
}

DESCRIPTION = (
    "The register of processing activities of AVG article 30, generated on every request from "
    "the route policies as they are now (a bootstrap file's routes block changes them; each "
    "change is an admin.route.* audit event), the message types the gateway generates, the "
    "retention policy and the gateway's own processing. Public: the register describes the "
    "processing and names no person, and the supervisory authority may ask for it at any "
    "time. Limited per address."
)


def _json(schema: dict, example_name: str) -> dict:
    return {"application/json": {"schema": schema, "examples": examples(example_name)}}


@path_source
def processing_paths(spec: APISpec) -> None:
    for name, component in EXAMPLES.items():
        spec.components.example(name, component)
    spec.components.schema("ProcessingActivity", ACTIVITY_SCHEMA)
    spec.components.schema("ProcessingActivities", REGISTER_SCHEMA)
    too_many = problem_response("too_many_requests (per address, with Retry-After)")
    spec.path(
        path=PATH,
        operations={
            "get": {
                "summary": "The register of processing activities (AVG article 30)",
                "description": DESCRIPTION,
                "operationId": "listProcessingActivities",
                "tags": ["processing"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "Every processing activity",
                        "headers": API_VERSION_HEADER,
                        "content": _json(
                            {"$ref": "#/components/schemas/ProcessingActivities"},
                            "ProcessingActivities",
                        ),
                    },
                    "429": too_many,
                },
            }
        },
    )
    spec.path(
        path=PATH + "/{id}",
        operations={
            "get": {
                "summary": "One processing activity, by its stable id",
                "description": (
                    "The activity's URI (its `uri`) is the address of this operation; a "
                    "Logboek Dataverwerkingen record names it as "
                    "dpl.core.processing_activity_id."
                ),
                "operationId": "getProcessingActivity",
                "tags": ["processing"],
                "security": [],
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 200},
                        "example": ACTIVITY_ID,
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The activity",
                        "headers": API_VERSION_HEADER,
                        "content": _json(
                            {"$ref": "#/components/schemas/ProcessingActivity"},
                            "ProcessingActivity",
                        ),
                    },
                    "404": problem_response(
                        "not_found: no activity has this id (now)",
                        "Problem.not_found.processing_activity",
                    ),
                    "429": too_many,
                },
            }
        },
    )
