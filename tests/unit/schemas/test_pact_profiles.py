"""A profile's ``gateway_fields`` (docs/pact-workflows.md section 2.4): the gateway adds the
named fields after minimisation, they are listed in ``fields_forwarded``, and no other name can
be added."""

from __future__ import annotations

import pytest

from schemas.errors import ProfileError
from schemas.messages import MESSAGE_SCHEMAS
from schemas.profiles import RecipientProfile, add_gateway_fields, minimise

CASE_REF = "5f0c1d2e-8a44-4b1e-9d0f-2b7c4e1a9f10"
PARTICIPANTS = [{"oin": "00000001001234567000", "name": "OBS De Regenboog", "type": "school"}]
RESPONSE = {"in_reply_to": "91aa", "response": "declined", "decline_reason": "not_involved"}
PROFILE = RecipientProfile.from_mapping(
    {
        "keep": ["in_reply_to", "response", "decline_reason", "contact"],
        "gateway_fields": ["case_ref"],
    },
    known_fields=MESSAGE_SCHEMAS["case_response"]().fields,
)


def test_gateway_fields_are_added_after_minimisation_and_listed_as_forwarded():
    minimised = minimise(RESPONSE, PROFILE)
    assert "case_ref" not in minimised.payload
    assert minimised.fields_forwarded == ("in_reply_to", "response", "decline_reason")
    added = add_gateway_fields(minimised, {"case_ref": CASE_REF})
    assert added.payload == {**RESPONSE, "case_ref": CASE_REF}
    assert added.fields_forwarded == ("in_reply_to", "response", "decline_reason", "case_ref")
    assert added.fields_dropped == () and added.fields_generalised == ()
    assert minimised.payload == RESPONSE  # the minimised result itself is unchanged


def test_only_the_profiles_gateway_fields_can_be_added():
    minimised = minimise(RESPONSE, PROFILE)
    with pytest.raises(ValueError, match="participants"):
        add_gateway_fields(minimised, {"case_ref": CASE_REF, "participants": PARTICIPANTS})
    with pytest.raises(ValueError, match="response"):
        add_gateway_fields(minimised, {"response": "accepted"})
    plain = minimise(RESPONSE, RecipientProfile(keep="*"))
    with pytest.raises(ValueError):
        add_gateway_fields(plain, {"case_ref": CASE_REF})


def test_added_values_are_copies():
    profile = RecipientProfile(keep="*", gateway_fields=("participants",))
    participants = [dict(PARTICIPANTS[0])]
    added = add_gateway_fields(minimise({}, profile), {"participants": participants})
    participants[0]["name"] = "changed"
    assert added.payload["participants"] == PARTICIPANTS


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"keep": "*", "gateway_fields": "case_ref"}, "must be a list"),
        ({"keep": "*", "gateway_fields": [""]}, "must be a field name"),
        ({"keep": "*", "gateway_fields": ["case_ref", "case_ref"]}, "twice"),
        ({"keep": ["case_ref"], "gateway_fields": ["case_ref"]}, "also kept"),
        ({"keep": "*", "gateway_fields": ["response"]}, "a field of the message type"),
        ({"keep": "*", "case_fields": ["case_ref"]}, "unknown profile key"),
    ],
)
def test_a_malformed_gateway_field_list_is_refused(profile, message):
    with pytest.raises(ProfileError, match=message):
        RecipientProfile.from_mapping(
            profile, known_fields=MESSAGE_SCHEMAS["case_response"]().fields
        )
