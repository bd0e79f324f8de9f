"""support_request payload rules, from API.md section 3."""

from datetime import date

import pytest

from schemas.errors import SchemaValidationError
from schemas.messages import load_payload

TODAY = date(2025, 6, 15)

VALID = {
    "concern_categories": ["family_situation", "wellbeing"],
    "urgency": "urgent",
    "education_sector": "so",
    "date_of_birth": "2013-12-01",
    "contact": {"name": "Intern begeleider", "email": "ib@school.nl"},
}


def load(payload):
    return load_payload("support_request", payload, TODAY)


def errors(payload):
    with pytest.raises(SchemaValidationError) as caught:
        load(payload)
    return caught.value.errors


def with_(**changes):
    return {**VALID, **changes}


def test_valid_request():
    assert load(VALID) == VALID


def test_every_category_once():
    every = ["family_situation", "behaviour", "wellbeing", "finances", "housing", "other"]
    assert load(with_(concern_categories=every))["concern_categories"] == every


@pytest.mark.parametrize("name", list(VALID))
def test_every_field_is_required(name):
    payload = {k: v for k, v in VALID.items() if k != name}
    assert errors(payload) == {f"payload.{name}": ["This field is required."]}


def test_categories_not_empty():
    assert set(errors(with_(concern_categories=[]))) == {"payload.concern_categories"}


def test_categories_without_repeats():
    repeated = ["behaviour", "wellbeing", "behaviour"]
    assert set(errors(with_(concern_categories=repeated))) == {"payload.concern_categories"}


def test_unknown_category_is_reported_by_index():
    assert set(errors(with_(concern_categories=["school_refusal", "behaviour"]))) == {
        "payload.concern_categories.0"
    }


def test_categories_must_be_a_list_of_strings():
    assert set(errors(with_(concern_categories="behaviour"))) == {"payload.concern_categories"}
    assert set(errors(with_(concern_categories=["behaviour", 3]))) == {
        "payload.concern_categories.1"
    }


def test_urgency_enum():
    assert load(with_(urgency="normal"))
    assert set(errors(with_(urgency="high"))) == {"payload.urgency"}


def test_age_boundaries():
    assert load(with_(date_of_birth="2023-06-15"))
    assert load(with_(date_of_birth="2001-06-16"))
    assert set(errors(with_(date_of_birth="2023-06-16"))) == {"payload.date_of_birth"}
    assert set(errors(with_(date_of_birth="2001-06-15"))) == {"payload.date_of_birth"}
