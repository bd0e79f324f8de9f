"""Signal request body, from API.md section 6."""

import pytest

from schemas.errors import SchemaValidationError
from schemas.signal import load_signal_request

VALID = {
    "subject": {"pseudonym": "c2Nob29sLXBzZXVkb255bQ"},
    "category": "attendance",
    "contact": {"name": "Leerplichtambtenaar", "email": "leerplicht@gemeente.nl"},
}


def paths(body):
    with pytest.raises(SchemaValidationError) as caught:
        load_signal_request(body)
    return set(caught.value.errors)


def test_valid_signal_by_pseudonym_or_bsn():
    assert load_signal_request(VALID) == VALID
    by_bsn = {**VALID, "subject": {"bsn": "123456782"}}
    assert load_signal_request(by_bsn) == by_bsn


@pytest.mark.parametrize(
    "category", ["attendance", "wellbeing", "family_situation", "safety", "other"]
)
def test_categories(category):
    assert load_signal_request({**VALID, "category": category})["category"] == category


def test_refusals():
    assert paths({**VALID, "category": "health"}) == {"category"}
    assert paths({**VALID, "subject": {"bsn": "123456789"}}) == {"subject.bsn"}
    assert paths({**VALID, "subject": {}}) == {"subject"}
    assert paths({**VALID, "contact": {"name": "x"}}) == {"contact.email"}
    assert paths({**VALID, "details": "x"}) == {"details"}


@pytest.mark.parametrize("name", list(VALID))
def test_required(name):
    assert paths({k: v for k, v in VALID.items() if k != name}) == {name}
