"""Consent bodies, from API.md section 5."""

from datetime import date

import pytest

from schemas.consent import (
    load_consent_request,
    load_consent_search,
    load_consent_withdrawal,
)
from schemas.errors import InvalidParameterError, SchemaValidationError

TODAY = date(2025, 6, 15)

VALID = {
    "subject": {"bsn": "123456782"},
    "date_of_birth": "2012-04-01",
    "purpose": "mazl",
    "parties": ["school", "00000001001234567000", "ggd"],
    "granted_by": [{"role": "parent"}, {"role": "youth"}],
    "valid_from": "2025-01-01",
    "valid_until": "2025-12-31",
    "evidence": {"method": "written", "reference": "Form 2025-014"},
}


def errors(body, loader=None):
    loader = loader or (lambda b: load_consent_request(b, TODAY))
    with pytest.raises(SchemaValidationError) as caught:
        loader(body)
    return caught.value


def paths(body):
    return set(errors(body).errors)


def test_valid_consent():
    assert load_consent_request(VALID, TODAY) == VALID


def test_backdated_and_ended_consent_is_allowed():
    past = {**VALID, "valid_from": "2020-01-01", "valid_until": "2020-12-31"}
    assert load_consent_request(past, TODAY) == past


def test_one_day_consent():
    body = {**VALID, "valid_until": "2025-01-01"}
    assert load_consent_request(body, TODAY)


@pytest.mark.parametrize("name", list(VALID))
def test_every_field_required(name):
    body = {k: v for k, v in VALID.items() if k != name}
    assert errors(body).errors == {name: ["This field is required."]}


def test_subject_is_bsn_only():
    assert paths({**VALID, "subject": {"pseudonym": "abc"}}) == {
        "subject.pseudonym",
        "subject.bsn",
    }
    assert paths({**VALID, "subject": {"bsn": "123456789"}}) == {"subject.bsn"}


@pytest.mark.parametrize("purpose", ["mazl", "support", "case_consultation"])
def test_purposes(purpose):
    assert load_consent_request({**VALID, "purpose": purpose}, TODAY)["purpose"] == purpose


def test_purpose_enum():
    assert paths({**VALID, "purpose": "leerplicht_enforcement"}) == {"purpose"}


def test_parties():
    types = ["school", "swv", "ggd", "wij", "leerplicht", "operator"]
    assert load_consent_request({**VALID, "parties": types}, TODAY)["parties"] == types
    assert paths({**VALID, "parties": []}) == {"parties"}
    assert paths({**VALID, "parties": ["school", "school"]}) == {"parties"}
    assert paths({**VALID, "parties": ["school", "gemeente"]}) == {"parties.1"}
    assert paths({**VALID, "parties": ["0000000100123456700"]}) == {"parties.0"}
    assert paths({**VALID, "parties": ["school", 5]}) == {"parties.1"}


def test_granted_by():
    assert paths({**VALID, "granted_by": []}) == {"granted_by"}
    assert paths({**VALID, "granted_by": [{"role": "teacher"}]}) == {"granted_by.0.role"}
    assert paths({**VALID, "granted_by": [{"role": "parent", "name": "x"}]}) == {
        "granted_by.0.name"
    }
    for role in ("parent", "guardian", "youth"):
        assert load_consent_request({**VALID, "granted_by": [{"role": role}]}, TODAY)


def test_valid_until_not_before_valid_from():
    assert paths({**VALID, "valid_until": "2024-12-31"}) == {"valid_until"}


def test_evidence():
    for method in ("written", "digital", "verbal"):
        body = {**VALID, "evidence": {"method": method, "reference": "r"}}
        assert load_consent_request(body, TODAY)
    bad = {"method": "email", "reference": "r" * 201}
    assert paths({**VALID, "evidence": bad}) == {"evidence.method", "evidence.reference"}


def test_date_of_birth_not_in_future():
    assert paths({**VALID, "date_of_birth": "2025-06-16"}) == {"date_of_birth"}


def test_unknown_member():
    assert paths({**VALID, "notes": "x"}) == {"notes"}


def test_withdrawal():
    body = {"withdrawn_by": {"role": "youth"}, "reason": "No longer wanted."}
    assert load_consent_withdrawal(body) == body
    value = errors({"withdrawn_by": {"role": "teacher"}, "reason": ""}, load_consent_withdrawal)
    assert set(value.errors) == {"withdrawn_by.role", "reason"}
    value = errors(
        {"withdrawn_by": {"role": "youth"}, "reason": "r" * 501}, load_consent_withdrawal
    )
    assert set(value.errors) == {"reason"}


def test_search_defaults():
    assert load_consent_search({"subject": {"bsn": "123456782"}}) == {
        "subject": {"bsn": "123456782"},
        "cursor": None,
        "limit": 50,
    }
    body = {"subject": {"bsn": "123456782"}, "cursor": "abc", "limit": 500}
    assert load_consent_search(body) == body
    assert load_consent_search({**body, "cursor": None, "limit": 1})["limit"] == 1


@pytest.mark.parametrize(
    "paging", [{"limit": 0}, {"limit": 501}, {"limit": "10"}, {"limit": 1.0}, {"cursor": 5}]
)
def test_search_bad_paging_is_invalid_parameter(paging):
    value = errors({"subject": {"bsn": "123456782"}, **paging}, load_consent_search)
    assert isinstance(value, InvalidParameterError)
    assert value.code == "invalid_parameter"
    assert set(value.errors) == set(paging)


def test_search_bad_subject_is_validation_failed():
    value = errors({"subject": {"bsn": "123456789"}}, load_consent_search)
    assert value.code == "validation_failed"
    assert set(value.errors) == {"subject.bsn"}
