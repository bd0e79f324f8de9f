"""jgz_advice payload rules, from API.md section 3: no diagnosis field, follow-up ahead."""

from datetime import date

import pytest

from schemas.errors import SchemaValidationError
from schemas.messages import load_payload

TODAY = date(2025, 6, 15)

VALID = {
    "in_reply_to": "0190a6a4-8b1e-7c2d-9f00-123456789abc",
    "advice": "adjusted_timetable",
    "follow_up_date": "2025-07-01",
    "contact": {"name": "Jeugdarts GGD", "email": "jgz@ggd.nl", "phone": "050 123 4567"},
}


def load(payload):
    return load_payload("jgz_advice", payload, TODAY)


def errors(payload):
    with pytest.raises(SchemaValidationError) as caught:
        load(payload)
    return caught.value.errors


def with_(**changes):
    return {**VALID, **changes}


def test_valid_advice():
    assert load(VALID) == VALID


def test_in_reply_to_and_follow_up_are_optional():
    minimal = {"advice": "full_attendance", "contact": VALID["contact"]}
    assert load(minimal) == minimal


@pytest.mark.parametrize(
    "advice",
    [
        "full_attendance",
        "partial_attendance",
        "adjusted_timetable",
        "temporarily_unable",
        "referred_to_care",
    ],
)
def test_every_advice(advice):
    assert load(with_(advice=advice))["advice"] == advice


@pytest.mark.parametrize("name", ["advice", "contact"])
def test_required(name):
    payload = {k: v for k, v in VALID.items() if k != name}
    assert errors(payload) == {f"payload.{name}": ["This field is required."]}


def test_no_diagnosis_field():
    assert set(errors(with_(diagnosis="asthma", advice="rest"))) == {
        "payload.diagnosis",
        "payload.advice",
    }


def test_follow_up_today_or_later():
    assert load(with_(follow_up_date="2025-06-15"))
    assert set(errors(with_(follow_up_date="2025-06-14"))) == {"payload.follow_up_date"}
    assert set(errors(with_(follow_up_date="15-07-2025"))) == {"payload.follow_up_date"}


def test_in_reply_to_is_a_string():
    for value in (12, None, "", "x" * 129):
        assert set(errors(with_(in_reply_to=value))) == {"payload.in_reply_to"}
