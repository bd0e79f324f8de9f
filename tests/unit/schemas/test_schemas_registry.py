"""The message registry and load_payload: types from API.md section 3, injected today."""

import json
from datetime import date, datetime

import pytest
from marshmallow import Schema

from schemas.errors import SchemaValidationError
from schemas.messages import (
    CASE_MESSAGE_TYPES,
    EXCHANGE_MESSAGE_TYPES,
    MESSAGE_SCHEMAS,
    PARTNER_MESSAGE_TYPES,
    AbsenceReportSchema,
    SupportRequestSchema,
    load_payload,
)

CONTACT = {"name": "A", "email": "a@school.nl"}
SUPPORT = {
    "concern_categories": ["other"],
    "urgency": "normal",
    "education_sector": "po",
    "date_of_birth": "2020-02-29",
    "contact": CONTACT,
}


def test_all_seventeen_types_are_registered():
    assert set(MESSAGE_SCHEMAS) == {
        "homebound_alert",
        "absence_report",
        "sickness_absence_referral",
        "jgz_advice",
        "support_request",
        "support_feedback",
        "homebound_report",
        "signal_match",
        # the pact's workflows (issue 20, docs/pact-workflows.md)
        "case_invitation",
        "case_response",
        "case_agreements",
        "case_reminder",
        "exemption_advice_request",
        "exemption_medical_advice",
        "exemption_education_advice",
        "homebound_escalation",
        "homebound_escalation_closed",
    }
    assert all(issubclass(cls, Schema) for cls in MESSAGE_SCHEMAS.values())
    assert MESSAGE_SCHEMAS["absence_report"] is AbsenceReportSchema


def test_partners_may_send_every_type_but_the_gateways_own():
    generated = {
        "signal_match",
        "homebound_alert",
        "case_reminder",
        "homebound_escalation",
        "homebound_escalation_closed",
    }
    assert set(PARTNER_MESSAGE_TYPES) == set(MESSAGE_SCHEMAS) - generated


def test_the_case_types_are_routed_but_not_sent_as_exchanges():
    """A case's messages travel on routes, but only the case endpoints send them."""
    case_types = {"case_invitation", "case_response", "case_agreements", "exemption_advice_request"}
    assert set(CASE_MESSAGE_TYPES) == case_types
    assert set(EXCHANGE_MESSAGE_TYPES) == set(PARTNER_MESSAGE_TYPES) - case_types
    assert {"exemption_medical_advice", "exemption_education_advice"} <= set(EXCHANGE_MESSAGE_TYPES)


def test_unknown_message_type_is_reported_at_message_type():
    with pytest.raises(SchemaValidationError) as caught:
        load_payload("gossip", {}, date(2025, 6, 15))
    assert set(caught.value.errors) == {"message_type"}


def test_result_is_plain_json():
    loaded = load_payload("support_request", SUPPORT, date(2025, 6, 15))
    assert json.loads(json.dumps(loaded)) == loaded
    assert loaded["date_of_birth"] == "2020-02-29"


def test_today_decides_and_leap_day_birthday_is_on_1_march():
    with pytest.raises(SchemaValidationError):
        load_payload("support_request", SUPPORT, date(2022, 2, 28))  # still 1
    assert load_payload("support_request", SUPPORT, date(2022, 3, 1))


def test_schemas_refuse_to_guess_today():
    with pytest.raises(TypeError):
        SupportRequestSchema().load(SUPPORT)
    with pytest.raises(TypeError):
        SupportRequestSchema(today=datetime(2025, 6, 15, 12, 0))


def test_schema_instances_can_be_used_directly():
    loaded = SupportRequestSchema(today=date(2025, 6, 15)).load(SUPPORT)
    assert loaded["date_of_birth"] == date(2020, 2, 29)


def test_error_exception_is_not_chained_to_the_input():
    payload = {**SUPPORT, "contact": {**CONTACT, "phone": "123456782 x"}}
    with pytest.raises(SchemaValidationError) as caught:
        load_payload("support_request", payload, date(2025, 6, 15))
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    assert "123456782" not in str(caught.value)
    assert "123456782" not in json.dumps(caught.value.errors)


BSN_LIKE = "123456782"
EVERY_PAYLOAD_FIELD = sorted(
    {(kind, name) for kind, cls in MESSAGE_SCHEMAS.items() for name in cls().fields}
)


@pytest.mark.parametrize(("kind", "name"), EVERY_PAYLOAD_FIELD)
def test_no_message_repeats_a_bsn_put_in_any_field(kind, name):
    payload = {name: BSN_LIKE, "contact": {"name": BSN_LIKE, "email": BSN_LIKE}}
    payload[BSN_LIKE] = BSN_LIKE
    with pytest.raises(SchemaValidationError) as caught:
        load_payload(kind, payload, date(2025, 6, 15))
    assert BSN_LIKE not in json.dumps(caught.value.errors)
    assert BSN_LIKE not in str(caught.value)
