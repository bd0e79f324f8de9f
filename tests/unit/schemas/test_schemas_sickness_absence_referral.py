"""sickness_absence_referral payload rules, from API.md section 3."""

from datetime import date

import pytest

from schemas.errors import SchemaValidationError
from schemas.messages import load_payload

TODAY = date(2025, 6, 15)

VALID = {
    "sick_days_12_weeks": 14,
    "sick_reports_12_weeks": 5,
    "education_sector": "po",
    "date_of_birth": "2016-09-30",
    "concern": "Often sick on Mondays.",
    "contact": {"name": "M. Bakker", "email": "m.bakker@school.nl"},
}
REQUIRED = [
    "sick_days_12_weeks",
    "sick_reports_12_weeks",
    "education_sector",
    "date_of_birth",
    "contact",
]


def load(payload):
    return load_payload("sickness_absence_referral", payload, TODAY)


def errors(payload):
    with pytest.raises(SchemaValidationError) as caught:
        load(payload)
    return caught.value.errors


def with_(**changes):
    return {**VALID, **changes}


def test_valid_referral():
    assert load(VALID) == VALID
    minimal = {k: v for k, v in VALID.items() if k != "concern"}
    assert load(minimal) == minimal


@pytest.mark.parametrize("name", REQUIRED)
def test_each_required_field(name):
    payload = {k: v for k, v in VALID.items() if k != name}
    assert errors(payload) == {f"payload.{name}": ["This field is required."]}


@pytest.mark.parametrize("name", ["sick_days_12_weeks", "sick_reports_12_weeks"])
def test_counts(name):
    assert load(with_(**{name: 0}))
    assert load(with_(**{name: 60}))
    for value in (-1, 61, "5", 5.0, False):
        assert set(errors(with_(**{name: value}))) == {f"payload.{name}"}


def test_enum_and_unknown_field():
    assert set(errors(with_(education_sector="hbo", diagnosis="flu"))) == {
        "payload.education_sector",
        "payload.diagnosis",
    }


def test_concern_length():
    assert load(with_(concern="c" * 500))
    assert set(errors(with_(concern="c" * 501))) == {"payload.concern"}


def test_age_boundaries():
    assert load(with_(date_of_birth="2023-06-15"))
    assert load(with_(date_of_birth="2001-06-16"))
    assert set(errors(with_(date_of_birth="2023-06-16"))) == {"payload.date_of_birth"}
    assert set(errors(with_(date_of_birth="2001-06-15"))) == {"payload.date_of_birth"}
