"""homebound_report payload rules, from API.md section 3: placed_date iff placed."""

from datetime import date

import pytest

from schemas.errors import SchemaValidationError
from schemas.messages import load_payload

TODAY = date(2025, 6, 15)

VALID = {
    "category": "long_relative_absence",
    "since_date": "2025-03-01",
    "education_sector": "vo",
    "date_of_birth": "2010-05-05",
    "perspective": "in_progress",
}
PLACED = {**VALID, "perspective": "placed", "placed_date": "2025-06-01"}


def load(payload):
    return load_payload("homebound_report", payload, TODAY)


def errors(payload):
    with pytest.raises(SchemaValidationError) as caught:
        load(payload)
    return caught.value.errors


def test_valid_reports():
    assert load(VALID) == VALID
    assert load(PLACED) == PLACED


@pytest.mark.parametrize(
    "category", ["absolute_absence", "long_relative_absence", "exemption_5a", "exemption_other"]
)
def test_every_category(category):
    assert load({**VALID, "category": category})["category"] == category


@pytest.mark.parametrize("name", list(VALID))
def test_required(name):
    payload = {k: v for k, v in VALID.items() if k != name}
    assert errors(payload) == {f"payload.{name}": ["This field is required."]}


def test_placed_needs_placed_date():
    payload = {k: v for k, v in PLACED.items() if k != "placed_date"}
    assert set(errors(payload)) == {"payload.placed_date"}


@pytest.mark.parametrize("perspective", ["none", "in_progress"])
def test_placed_date_refused_unless_placed(perspective):
    payload = {**PLACED, "perspective": perspective}
    assert set(errors(payload)) == {"payload.placed_date"}


def test_placed_date_rules_still_reported_alongside_other_errors():
    payload = {**VALID, "placed_date": "2025-06-01", "category": "other"}
    assert set(errors(payload)) == {"payload.placed_date", "payload.category"}


def test_dates_not_in_future():
    assert load({**VALID, "since_date": "2025-06-15"})
    assert set(errors({**VALID, "since_date": "2025-06-16"})) == {"payload.since_date"}
    assert set(errors({**PLACED, "placed_date": "2025-06-16"})) == {"payload.placed_date"}


def test_placed_date_not_before_since_date():
    assert load({**PLACED, "placed_date": "2025-03-01"})
    assert set(errors({**PLACED, "placed_date": "2025-02-28"})) == {"payload.placed_date"}


def test_perspective_enum_and_unknown_field():
    assert set(errors({**VALID, "perspective": "maybe", "school": "x"})) == {
        "payload.perspective",
        "payload.school",
    }


def test_age_boundaries():
    assert load({**VALID, "date_of_birth": "2023-06-15"})
    assert load({**VALID, "date_of_birth": "2001-06-16"})
    assert set(errors({**VALID, "date_of_birth": "2023-06-16"})) == {"payload.date_of_birth"}
    assert set(errors({**VALID, "date_of_birth": "2001-06-15"})) == {"payload.date_of_birth"}
