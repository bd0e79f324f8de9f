"""The signal policy file (API.md section 13 rules 5 and 6) and the Retry-After floor.

The policy is data: a file that does not say plainly which organisation types may signal,
and on which legal basis they are told of each other, must stop the start rather than let
every type signal.
"""

from __future__ import annotations

import pytest
import yaml
from flask import Response

from gateway.ratelimit import _retry_after_at_least_one_second
from gateway.signals.policy import (
    SHIPPED_POLICY,
    SignalPolicyError,
    load_signal_policy,
    parse_signal_policy,
)


def valid() -> dict:
    return {
        "signal_match": {
            "organisation_types": ["school", "ggd"],
            "purpose": "signal_matching",
            "legal_basis": {"type": "legal_obligation", "citation": "Jeugdwet par. 7.1.1"},
            "retention_days": 365,
        }
    }


def test_the_shipped_policy_lets_the_care_partners_signal_but_not_the_operator():
    policy = load_signal_policy()
    for org_type in ("school", "swv", "ggd", "wij", "leerplicht"):
        assert policy.may_signal(org_type)
    assert not policy.may_signal("operator")
    assert policy.legal_basis["type"] == "legal_obligation"


def test_a_type_is_allowed_only_when_the_data_names_it():
    policy = parse_signal_policy(valid())
    assert policy.may_signal("ggd") and not policy.may_signal("wij")


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("organisation_types", ["school", "police"], "organisation_types"),
        ("organisation_types", "school", "organisation_types"),
        ("purpose", "curiosity", "purpose"),
        ("legal_basis", {"type": "consent"}, "legal_basis"),
        ("legal_basis", {"type": "legal_obligation"}, "legal_basis"),
        ("retention_days", 0, "retention_days"),
        ("retention_days", True, "retention_days"),
        ("everyone", True, "everyone"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_key(key, value, named):
    document = valid()
    document["signal_match"][key] = value
    with pytest.raises(SignalPolicyError, match=f"signal_match.{named}"):
        parse_signal_policy(document)


def test_a_file_without_a_policy_is_refused(tmp_path):
    empty = tmp_path / "signals.yaml"
    empty.write_text(yaml.safe_dump({"routes": []}))
    with pytest.raises(SignalPolicyError):
        load_signal_policy(empty)
    assert SHIPPED_POLICY.name == "signals.yaml"


@pytest.mark.parametrize(("given", "sent"), [("0", "1"), ("-1", "1"), ("7", "7")])
def test_retry_after_is_never_below_one_second(given, sent):
    response = Response(status=429, headers={"Retry-After": given})
    assert _retry_after_at_least_one_second(response).headers["Retry-After"] == sent
