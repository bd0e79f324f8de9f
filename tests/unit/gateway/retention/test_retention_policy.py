"""The retention policy file: the shipped one is complete and sensible, and a file that is
not a valid policy stops the start instead of keeping data for ever or erasing it at once."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import yaml

from gateway.exchange.routes import SHIPPED_ROUTES
from gateway.retention.policy import (
    SHIPPED_POLICY,
    RetentionPolicyError,
    load_retention_policy,
    parse_retention_policy,
)
from gateway.signals.policy import load_signal_policy
from schemas.vocabulary import AUDIT_PURPOSES

SHIPPED = yaml.safe_load(SHIPPED_POLICY.read_text())


def test_the_shipped_policy_gives_every_audited_purpose_a_term():
    policy = load_retention_policy()
    assert set(policy.audit_subject_days) == {*AUDIT_PURPOSES, "without_purpose"}
    assert policy.audit_term(None) == timedelta(days=SHIPPED["audit_subject_days"]["without_purpose"])


def test_the_trail_outlives_every_payload_of_its_purpose():
    """A parent may ask what was sent after the payload is gone: the audit trail of a route's
    purpose is kept at least as long as the route keeps its payloads."""
    policy = load_retention_policy()
    for route in yaml.safe_load(SHIPPED_ROUTES.read_text())["routes"]:
        assert policy.audit_term(route["purpose"]) >= timedelta(days=route["retention_days"]), route
    signals = load_signal_policy()
    assert policy.audit_term(signals.purpose) >= timedelta(days=signals.retention_days)


def test_an_unknown_purpose_gets_the_longest_term_never_a_shorter():
    policy = load_retention_policy()
    longest = max(SHIPPED["audit_subject_days"].values())
    assert policy.audit_term("a_purpose_removed_since") == timedelta(days=longest)


def changed(path: tuple, value) -> dict:
    document = copy.deepcopy(SHIPPED)
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("consents_days_after_end",), 0, "consents_days_after_end"),
        (("consents_days_after_end",), 7301, "consents_days_after_end"),
        (("signals_days_after_close",), True, "signals_days_after_close"),
        (("monitoring_facts_days",), "730", "monitoring_facts_days"),
        (("breach_register_days_after_confirmation",), KeyError, "breach_register"),
        (("reidentification_days_after_decision",), KeyError, "reidentification_days"),
        (("audit_subject_days", "mazl"), KeyError, "audit_subject_days.mazl"),
        (("audit_subject_days", "without_purpose"), KeyError, "without_purpose"),
        (("audit_subject_days", "holidays"), 10, "audit_subject_days.holidays"),
        (("audit_subject_days", "support"), -1, "audit_subject_days.support"),
        (("audit_subject_days",), [1, 2], "audit_subject_days"),
        (("payloads_days",), 30, "payloads_days"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_key(path, value, named):
    with pytest.raises(RetentionPolicyError, match=named):
        parse_retention_policy(changed(path, value))


def test_a_document_that_is_no_mapping_is_refused():
    with pytest.raises(RetentionPolicyError):
        parse_retention_policy(["consents_days_after_end", 730])
