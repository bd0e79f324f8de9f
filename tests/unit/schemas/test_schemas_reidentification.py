"""Re-identification bodies, from API.md section 7."""

import pytest

from schemas.errors import SchemaValidationError
from schemas.reidentification import (
    load_reidentification_approval,
    load_reidentification_refusal,
    load_reidentification_request,
)

VALID = {
    "pseudonym": "c3d2-pseudo_nym",
    "reason": "Court order in case 2025/123.",
    "legal_basis": "Jeugdwet art. 7.1.1.3",
}


def paths(loader, body):
    with pytest.raises(SchemaValidationError) as caught:
        loader(body)
    return set(caught.value.errors)


def test_valid_request():
    assert load_reidentification_request(VALID) == VALID


@pytest.mark.parametrize("name", list(VALID))
def test_required(name):
    body = {k: v for k, v in VALID.items() if k != name}
    assert paths(load_reidentification_request, body) == {name}


def test_limits():
    ok = {**VALID, "reason": "r" * 500, "legal_basis": "l" * 200}
    assert load_reidentification_request(ok)
    too_long = {**VALID, "reason": "r" * 501, "legal_basis": "l" * 201}
    assert paths(load_reidentification_request, too_long) == {"reason", "legal_basis"}
    assert paths(load_reidentification_request, {**VALID, "pseudonym": "a b"}) == {"pseudonym"}
    assert paths(load_reidentification_request, {**VALID, "bsn": "123456782"}) == {"bsn"}


def test_approval_reason_optional():
    assert load_reidentification_approval(None) == {}
    assert load_reidentification_approval({}) == {}
    assert load_reidentification_approval({"reason": "ok"}) == {"reason": "ok"}
    assert paths(load_reidentification_approval, {"reason": ""}) == {"reason"}
    assert paths(load_reidentification_approval, {"note": "x"}) == {"note"}


def test_refusal_reason_required():
    assert load_reidentification_refusal({"reason": "No legal basis."}) == {
        "reason": "No legal basis."
    }
    assert paths(load_reidentification_refusal, {}) == {"reason"}
    assert paths(load_reidentification_refusal, None) == {"reason"}
