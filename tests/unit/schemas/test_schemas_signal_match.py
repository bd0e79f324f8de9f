"""signal_match payload (gateway-generated), from API.md section 3."""

from datetime import date

import pytest

from schemas.errors import SchemaValidationError
from schemas.messages import load_payload

TODAY = date(2025, 6, 15)

VALID = {
    "signal_id": "0190a6a4-8b1e-7c2d-9f00-123456789abc",
    "other_party": {
        "oin": "00000001001234567000",
        "name": "GGD Groningen",
        "contact": {"name": "Jeugdarts", "email": "jgz@ggd.nl"},
    },
    "matched_at": "2025-06-15T08:30:00Z",
}


def errors(payload):
    with pytest.raises(SchemaValidationError) as caught:
        load_payload("signal_match", payload, TODAY)
    return caught.value.errors


def test_valid_match_with_time_in_utc():
    assert load_payload("signal_match", VALID, TODAY) == VALID
    local = {**VALID, "matched_at": "2025-06-15T10:30:00+02:00"}
    assert load_payload("signal_match", local, TODAY)["matched_at"] == "2025-06-15T08:30:00Z"


def test_refusals():
    other = {**VALID["other_party"], "oin": "123", "category": "safety"}
    assert set(errors({**VALID, "other_party": other, "matched_at": "yesterday"})) == {
        "payload.other_party.oin",
        "payload.other_party.category",
        "payload.matched_at",
    }


@pytest.mark.parametrize("name", list(VALID))
def test_required(name):
    payload = {k: v for k, v in VALID.items() if k != name}
    assert errors(payload) == {f"payload.{name}": ["This field is required."]}
