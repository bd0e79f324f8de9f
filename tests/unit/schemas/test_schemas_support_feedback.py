"""support_feedback payload rules, from API.md section 3."""

from datetime import date

import pytest

from schemas.errors import SchemaValidationError
from schemas.messages import load_payload

TODAY = date(2025, 6, 15)

VALID = {
    "in_reply_to": "0190a6a4-8b1e-7c2d-9f00-123456789abc",
    "involvement": "in_progress",
    "contact": {"name": "WIJ-team Noord", "email": "noord@wij.nl"},
}


def load(payload):
    return load_payload("support_feedback", payload, TODAY)


def errors(payload):
    with pytest.raises(SchemaValidationError) as caught:
        load(payload)
    return caught.value.errors


def test_valid_feedback():
    assert load(VALID) == VALID
    minimal = {k: v for k, v in VALID.items() if k != "in_reply_to"}
    assert load(minimal) == minimal


@pytest.mark.parametrize("value", ["accepted", "in_progress", "closed", "referred"])
def test_every_involvement(value):
    assert load({**VALID, "involvement": value})["involvement"] == value


@pytest.mark.parametrize("name", ["involvement", "contact"])
def test_required(name):
    payload = {k: v for k, v in VALID.items() if k != name}
    assert errors(payload) == {f"payload.{name}": ["This field is required."]}


def test_refusals():
    assert set(errors({**VALID, "involvement": "done", "notes": "x"})) == {
        "payload.involvement",
        "payload.notes",
    }
    contact = {"name": "", "email": "noord@wij.nl", "fax": "1"}
    assert set(errors({**VALID, "contact": contact})) == {
        "payload.contact.name",
        "payload.contact.fax",
    }
