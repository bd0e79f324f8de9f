"""The registered components form a valid OpenAPI 3.1 document with the contract's shapes."""

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from schemas.openapi import register_schemas


@pytest.fixture(scope="module")
def document():
    spec = APISpec(
        title="Thuiszitterspact gateway",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
    )
    register_schemas(spec)
    register_schemas(spec)  # a second call changes nothing
    spec.path(
        path="/api/v1/exchanges",
        operations={
            "post": {
                "requestBody": {"content": {"application/json": {"schema": "ExchangeRequest"}}},
                "responses": {
                    "202": {
                        "description": "Accepted",
                        "content": {"application/json": {"schema": "ExchangeAccepted"}},
                    },
                    "422": {
                        "description": "Validation failed",
                        "content": {"application/problem+json": {"schema": "Problem"}},
                    },
                },
            }
        },
    )
    return spec.to_dict()


def test_document_is_valid_openapi_3_1(document):
    validate(document)


def test_every_named_component_exists(document):
    names = set(document["components"]["schemas"])
    assert {
        "AbsenceReport",
        "SicknessAbsenceReferral",
        "JgzAdvice",
        "SupportRequest",
        "SupportFeedback",
        "HomeboundReport",
        "SignalMatch",
        "Contact",
        "Subject",
        "ExchangeRequest",
        "ExchangeAccepted",
        "ExchangeStatus",
        "InboxItem",
        "InboxPage",
        "AckResponse",
        "ConsentRequest",
        "ConsentWithdraw",
        "ConsentSearch",
        "ConsentResponse",
        "SignalRequest",
        "SignalResponse",
        "ReidentificationRequest",
        "ReidentificationApprove",
        "ReidentificationRefuse",
        "SubjectReportRequest",
        "AuditEvent",
        "Problem",
    } <= names


def test_custom_fields_map_to_json_schema(document):
    schemas = document["components"]["schemas"]
    report = schemas["AbsenceReport"]["properties"]
    assert report["school_brin"] == {"type": "string", "pattern": "^[0-9]{2}[A-Z]{2}$"}
    assert report["unauthorised_hours_4_weeks"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 200,
    }
    assert report["start_date"]["type"] == "string"
    assert report["start_date"]["format"] == "date"
    assert report["contact"] == {"$ref": "#/components/schemas/Contact"}
    assert schemas["ExchangeRequest"]["properties"]["recipient"]["oneOf"] == [
        {"type": "string", "pattern": "^[0-9]{20}$"},
        {"$ref": "#/components/schemas/RoleAddress"},
    ]
    subject = schemas["Subject"]
    assert subject["properties"]["bsn"]["pattern"] == "^[0-9]{9}$"
    assert subject["properties"]["pseudonym"]["pattern"] == "^[A-Za-z0-9_-]{1,128}$"
    # exactly one way of naming the child; a reply by encrypted pseudonym adds received_in
    assert [branch["required"] for branch in subject["oneOf"]] == [
        ["bsn"], ["pseudonym"], ["polymorphic"], ["encrypted_pseudonym", "received_in"]
    ]
    assert [branch["maxProperties"] for branch in subject["oneOf"]] == [1, 1, 1, 2]
    delivered = schemas["DeliveredSubject"]
    assert (delivered["minProperties"], delivered["maxProperties"]) == (1, 1)
    assert delivered["properties"]["encrypted_pseudonym"]["pattern"] == "^[A-Za-z0-9+/]{128}$"
    assert schemas["InboxItem"]["properties"]["subject"] == {
        "$ref": "#/components/schemas/DeliveredSubject"
    }
    categories = schemas["SupportRequest"]["properties"]["concern_categories"]
    assert categories["uniqueItems"] is True
    assert categories["minItems"] == 1


def test_request_bodies_are_closed(document):
    schemas = document["components"]["schemas"]
    for name in ("AbsenceReport", "Contact", "Subject", "ExchangeRequest", "ConsentRequest"):
        assert schemas[name]["additionalProperties"] is False


def test_payload_is_one_of_the_partner_payloads(document):
    payload = document["components"]["schemas"]["ExchangeRequest"]["properties"]["payload"]
    refs = {entry["$ref"].rsplit("/", 1)[1] for entry in payload["oneOf"]}
    assert refs == {
        "AbsenceReport",
        "SicknessAbsenceReferral",
        "JgzAdvice",
        "SupportRequest",
        "SupportFeedback",
        "HomeboundReport",
        "ExemptionMedicalAdvice",
        "ExemptionEducationAdvice",
    }


def test_required_members(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["ExchangeRequest"]["required"]) == {
        "message_type",
        "recipient",
        "subject",
        "payload",
    }
    assert set(schemas["Contact"]["required"]) == {"name", "email"}
    assert "placed_date" not in schemas["HomeboundReport"]["required"]
    assert schemas["HomeboundReport"]["then"] == {"required": ["placed_date"]}


CONTACT = {"name": "A", "email": "a@school.nl"}
DOCUMENTED_EXAMPLES = {
    "ExchangeRequest": {
        "message_type": "support_feedback",
        "recipient": "00000001001234567000",
        "subject": {"pseudonym": "abc"},
        "payload": {"involvement": "closed", "contact": CONTACT},
    },
    "HomeboundReport": {
        "category": "exemption_5a",
        "since_date": "2025-03-01",
        "education_sector": "vso",
        "date_of_birth": "2010-05-05",
        "perspective": "placed",
        "placed_date": "2025-06-01",
    },
    "ConsentSearch": {"subject": {"bsn": "123456782"}, "cursor": None, "limit": 10},
}
UNDOCUMENTED_EXAMPLES = {
    "ExchangeRequest": {**DOCUMENTED_EXAMPLES["ExchangeRequest"], "extra": 1},
    "Subject": {"bsn": "123456782", "pseudonym": "abc"},
    "HomeboundReport": {**DOCUMENTED_EXAMPLES["HomeboundReport"], "perspective": "none"},
    "SupportRequest": {
        "concern_categories": ["housing", "housing"],
        "urgency": "normal",
        "education_sector": "so",
        "date_of_birth": "2013-12-01",
        "contact": CONTACT,
    },
}


def _validator(document, name):
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(root)


@pytest.mark.parametrize("name", list(DOCUMENTED_EXAMPLES))
def test_documented_shapes_accept_valid_bodies(document, name):
    _validator(document, name).validate(DOCUMENTED_EXAMPLES[name])


@pytest.mark.parametrize("name", list(UNDOCUMENTED_EXAMPLES))
def test_documented_shapes_refuse_what_the_schemas_refuse(document, name):
    assert not _validator(document, name).is_valid(UNDOCUMENTED_EXAMPLES[name])
