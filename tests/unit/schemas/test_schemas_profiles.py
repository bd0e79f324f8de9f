"""Recipient minimisation per route, expected sets written out from API.md section 3."""

import pytest

from schemas.errors import ProfileError
from schemas.messages import MESSAGE_SCHEMAS
from schemas.profiles import Minimised, RecipientProfile, minimise

DOB = {"generalise": {"date_of_birth": "birth_year"}}

# The route table's "fields received" column, copied as configuration.
ROUTE_PROFILES = {
    ("absence_report", "leerplicht"): {"keep": "*"},
    ("absence_report", "swv"): {
        "keep": [
            "absence_type",
            "start_date",
            "unauthorised_hours_4_weeks",
            "reason_category",
            "education_sector",
            "school_brin",
            "birth_year",
        ],
        **DOB,
    },
    ("sickness_absence_referral", "ggd"): {
        "keep": [
            "sick_days_12_weeks",
            "sick_reports_12_weeks",
            "education_sector",
            "birth_year",
            "concern",
            "contact",
        ],
        **DOB,
    },
    ("jgz_advice", "school"): {"keep": ["in_reply_to", "advice", "follow_up_date", "contact"]},
    ("support_request", "wij"): {
        "keep": ["concern_categories", "urgency", "education_sector", "birth_year", "contact"],
        **DOB,
    },
    ("support_feedback", "school"): {"keep": ["in_reply_to", "involvement", "contact"]},
    ("homebound_report", "swv"): {
        "keep": [
            "category",
            "since_date",
            "education_sector",
            "birth_year",
            "perspective",
            "placed_date",
        ],
        **DOB,
    },
}

CONTACT = {"name": "A", "email": "a@school.nl"}
PAYLOADS = {
    "absence_report": {
        "absence_type": "absolute",
        "start_date": "2025-05-19",
        "unauthorised_hours_4_weeks": 40,
        "reason_category": "other",
        "education_sector": "vo",
        "school_brin": "12AB",
        "date_of_birth": "2011-03-04",
        "grade": "2 havo",
        "contact": CONTACT,
        "remarks": "r",
    },
    "sickness_absence_referral": {
        "sick_days_12_weeks": 14,
        "sick_reports_12_weeks": 5,
        "education_sector": "po",
        "date_of_birth": "2016-09-30",
        "concern": "c",
        "contact": CONTACT,
    },
    "jgz_advice": {
        "in_reply_to": "0190a6a4-8b1e-7c2d-9f00-123456789abc",
        "advice": "full_attendance",
        "follow_up_date": "2025-07-01",
        "contact": CONTACT,
    },
    "support_request": {
        "concern_categories": ["housing"],
        "urgency": "normal",
        "education_sector": "so",
        "date_of_birth": "2013-12-01",
        "contact": CONTACT,
    },
    "support_feedback": {
        "in_reply_to": "0190a6a4-8b1e-7c2d-9f00-123456789abc",
        "involvement": "accepted",
        "contact": CONTACT,
    },
    "homebound_report": {
        "category": "exemption_5a",
        "since_date": "2025-03-01",
        "education_sector": "vso",
        "date_of_birth": "2010-05-05",
        "perspective": "placed",
        "placed_date": "2025-06-01",
    },
}

# (forwarded, dropped, generalised), by hand from the table.
EXPECTED = {
    ("absence_report", "leerplicht"): (set(PAYLOADS["absence_report"]), set(), set()),
    ("absence_report", "swv"): (
        {
            "absence_type",
            "start_date",
            "unauthorised_hours_4_weeks",
            "reason_category",
            "education_sector",
            "school_brin",
            "birth_year",
        },
        {"grade", "contact", "remarks"},
        {"date_of_birth->birth_year"},
    ),
    ("sickness_absence_referral", "ggd"): (
        {
            "sick_days_12_weeks",
            "sick_reports_12_weeks",
            "education_sector",
            "birth_year",
            "concern",
            "contact",
        },
        set(),
        {"date_of_birth->birth_year"},
    ),
    ("jgz_advice", "school"): (
        {"in_reply_to", "advice", "follow_up_date", "contact"},
        set(),
        set(),
    ),
    ("support_request", "wij"): (
        {"concern_categories", "urgency", "education_sector", "birth_year", "contact"},
        set(),
        {"date_of_birth->birth_year"},
    ),
    ("support_feedback", "school"): ({"in_reply_to", "involvement", "contact"}, set(), set()),
    ("homebound_report", "swv"): (
        {"category", "since_date", "education_sector", "birth_year", "perspective", "placed_date"},
        set(),
        {"date_of_birth->birth_year"},
    ),
}
BIRTH_YEARS = {
    "absence_report": 2011,
    "sickness_absence_referral": 2016,
    "support_request": 2013,
    "homebound_report": 2010,
}


def profile_for(route):
    message_type = route[0]
    known = MESSAGE_SCHEMAS[message_type]().fields
    return RecipientProfile.from_mapping(ROUTE_PROFILES[route], known_fields=known)


@pytest.mark.parametrize("route", list(ROUTE_PROFILES))
def test_route_profile(route):
    message_type = route[0]
    payload = PAYLOADS[message_type]
    result = minimise(payload, profile_for(route))
    forwarded, dropped, generalised = EXPECTED[route]
    assert isinstance(result, Minimised)
    assert set(result.fields_forwarded) == forwarded
    assert set(result.payload) == forwarded
    assert set(result.fields_dropped) == dropped
    assert set(result.fields_generalised) == generalised
    if "birth_year" in forwarded:
        assert result.payload["birth_year"] == BIRTH_YEARS[message_type]
        assert "date_of_birth" not in result.payload
    for name in forwarded - {"birth_year"}:
        assert result.payload[name] == payload[name]


def test_keep_all_is_the_payload_as_sent():
    payload = PAYLOADS["absence_report"]
    result = minimise(payload, profile_for(("absence_report", "leerplicht")))
    assert result.payload == payload
    assert result.payload["date_of_birth"] == "2011-03-04"


def test_absent_optional_fields_are_not_listed():
    payload = {k: v for k, v in PAYLOADS["absence_report"].items() if k not in ("grade", "remarks")}
    result = minimise(payload, profile_for(("absence_report", "swv")))
    assert set(result.fields_dropped) == {"contact"}
    jgz = {"advice": "full_attendance", "contact": CONTACT}
    result = minimise(jgz, profile_for(("jgz_advice", "school")))
    assert set(result.fields_forwarded) == {"advice", "contact"}
    assert result.fields_dropped == ()


def test_minimise_does_not_touch_its_input():
    payload = {"contact": {"name": "A", "email": "a@b.nl"}, "date_of_birth": "2011-03-04"}
    result = minimise(payload, RecipientProfile(keep=("contact",), generalise=DOB["generalise"]))
    result.payload["contact"]["name"] = "changed"
    assert payload == {"contact": {"name": "A", "email": "a@b.nl"}, "date_of_birth": "2011-03-04"}


def test_generalised_name_need_not_be_listed_in_keep():
    profile = RecipientProfile.from_mapping({"keep": ["urgency"], **DOB})
    result = minimise({"urgency": "normal", "date_of_birth": "2013-12-01"}, profile)
    assert result.payload == {"urgency": "normal", "birth_year": 2013}
    assert result.fields_forwarded == ("urgency", "birth_year")


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        (["urgency"], "mapping"),
        ({}, "keep"),
        ({"keep": []}, "keep"),
        ({"keep": "all"}, "keep"),
        ({"keep": ["a", "a"]}, "twice"),
        ({"keep": ["a", 1]}, "entry 1"),
        ({"keep": ["a"], "drop": ["b"]}, "drop"),
        ({"keep": ["a"], "generalise": {"date_of_birth": "birth_month"}}, "birth_month"),
        ({"keep": ["date_of_birth"], **DOB}, "both kept and generalised"),
        ({"keep": ["a"], "generalise": ["date_of_birth"]}, "generalise"),
    ],
)
def test_from_mapping_names_the_problem(mapping, words):
    with pytest.raises(ProfileError) as caught:
        RecipientProfile.from_mapping(mapping)
    assert words in str(caught.value)


def test_from_mapping_refuses_fields_the_message_type_lacks():
    known = MESSAGE_SCHEMAS["support_feedback"]().fields
    with pytest.raises(ProfileError) as caught:
        RecipientProfile.from_mapping({"keep": ["involvment"]}, known_fields=known)
    assert "involvment" in str(caught.value)
    with pytest.raises(ProfileError):
        RecipientProfile.from_mapping({"keep": ["involvement"], **DOB}, known_fields=known)
