"""absence_report payload rules, from API.md section 3."""

from datetime import date

import pytest

from schemas.errors import SchemaValidationError
from schemas.messages import load_payload

TODAY = date(2025, 6, 15)

VALID = {
    "absence_type": "relative",
    "start_date": "2025-05-19",
    "unauthorised_hours_4_weeks": 16,
    "reason_category": "unauthorised",
    "education_sector": "vo",
    "school_brin": "12AB",
    "date_of_birth": "2011-03-04",
    "grade": "2 havo",
    "contact": {"name": "J. de Vries", "email": "zorg@regenboog.nl", "phone": "+31 50 123-4567"},
    "remarks": "Absent on Mondays since May.",
}
REQUIRED = [
    "absence_type",
    "start_date",
    "unauthorised_hours_4_weeks",
    "reason_category",
    "education_sector",
    "school_brin",
    "date_of_birth",
    "contact",
]
OPTIONAL = ["grade", "remarks"]


def load(payload, today=TODAY):
    return load_payload("absence_report", payload, today)


def errors(payload, today=TODAY):
    with pytest.raises(SchemaValidationError) as caught:
        load(payload, today)
    assert caught.value.code == "validation_failed"
    return caught.value.errors


def with_(**changes):
    return {**VALID, **changes}


def without(*names):
    return {k: v for k, v in VALID.items() if k not in names}


def test_valid_report_is_returned_as_sent():
    assert load(VALID) == VALID


def test_optional_fields_may_be_left_out():
    assert load(without(*OPTIONAL)) == without(*OPTIONAL)


@pytest.mark.parametrize("name", REQUIRED)
def test_each_required_field(name):
    assert errors(without(name)) == {f"payload.{name}": ["This field is required."]}


def test_unknown_fields_anywhere():
    assert set(errors(with_(diagnosis="x"))) == {"payload.diagnosis"}
    contact = {**VALID["contact"], "bsn": "123456782"}
    assert set(errors(with_(contact=contact))) == {"payload.contact.bsn"}


@pytest.mark.parametrize("name", ["absence_type", "reason_category", "education_sector"])
def test_enums(name):
    assert set(errors(with_(**{name: "sometimes"}))) == {f"payload.{name}"}


@pytest.mark.parametrize("value", ["relative", "absolute", "signal"])
def test_every_absence_type(value):
    assert load(with_(absence_type=value))["absence_type"] == value


@pytest.mark.parametrize(
    "value", ["unauthorised", "luxury", "late_arrival", "concerning_sickness", "other"]
)
def test_every_reason_category(value):
    assert load(with_(reason_category=value))["reason_category"] == value


@pytest.mark.parametrize("value", ["po", "vo", "mbo", "so", "vso"])
def test_every_education_sector(value):
    assert load(with_(education_sector=value))["education_sector"] == value


@pytest.mark.parametrize("brin", ["12ab", "123A", "AB12", "12ABC", "١٢AB"])
def test_bad_brin(brin):
    assert set(errors(with_(school_brin=brin))) == {"payload.school_brin"}


@pytest.mark.parametrize("value", ["16", 16.0, 16.5, True, None])
def test_hours_must_be_a_json_integer(value):
    assert set(errors(with_(unauthorised_hours_4_weeks=value))) == {
        "payload.unauthorised_hours_4_weeks"
    }


def test_hours_range():
    assert load(with_(unauthorised_hours_4_weeks=0))
    assert load(with_(unauthorised_hours_4_weeks=200))
    for value in (-1, 201):
        assert set(errors(with_(unauthorised_hours_4_weeks=value))) == {
            "payload.unauthorised_hours_4_weeks"
        }


def test_start_date_today_or_past():
    assert load(with_(start_date="2025-06-15"))
    assert set(errors(with_(start_date="2025-06-16"))) == {"payload.start_date"}


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        ("2023-06-15", True),  # 2 today
        ("2023-06-16", False),  # 1 until tomorrow
        ("2001-06-16", True),  # 23, turns 24 tomorrow
        ("2001-06-15", False),  # 24 today
        ("2026-01-01", False),  # not born yet
    ],
)
def test_age_boundaries(born, ok):
    if ok:
        assert load(with_(date_of_birth=born))["date_of_birth"] == born
    else:
        assert set(errors(with_(date_of_birth=born))) == {"payload.date_of_birth"}


def test_text_limits():
    assert load(with_(grade="x" * 20, remarks="y" * 500))
    assert set(errors(with_(grade="x" * 21, remarks="y" * 501))) == {
        "payload.grade",
        "payload.remarks",
    }


def test_contact_rules():
    bad = {"name": "n" * 101, "email": "not-an-email", "phone": "call me"}
    assert set(errors(with_(contact=bad))) == {
        "payload.contact.name",
        "payload.contact.email",
        "payload.contact.phone",
    }
    assert set(errors(with_(contact={"name": "A"}))) == {"payload.contact.email"}
    assert set(errors(with_(contact="A <a@b.nl>"))) == {"payload.contact"}


def test_null_is_not_an_optional_value():
    assert set(errors(with_(grade=None))) == {"payload.grade"}


def test_payload_must_be_an_object():
    assert errors(["absence_report"]) == {"payload": ["Must be a JSON object."]}
