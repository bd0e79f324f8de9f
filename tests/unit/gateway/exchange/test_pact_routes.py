"""The shipped routes of the pact's workflows (docs/pact-workflows.md sections 3.3, 4.2) load,
with their purposes, legal bases, identities, profiles and gateway fields as the design says
(written out here by hand), and a route cannot drop or invent a gateway field."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from gateway.exchange.routes import (
    SHIPPED_ROUTES,
    policy_from_row,
    route_problems,
    shipped_route_rows,
)
from schemas.profiles import add_gateway_fields, minimise

CONSENT = ("case_consultation", "consent", None)
LP_GGD = "Leerplichtwet 1969 art. 5 onder a en art. 7 lid 1 onder a"
LP_SWV = "Leerplichtwet 1969 art. 7; WPO art. 18a / WVO art. 17a (zorgplicht samenwerkingsverband)"
EXPECTED = {
    # (type, sender, recipient): (purpose, basis, citation, identity, gateway_fields, days)
    **{
        ("case_invitation", "school", r): (*CONSENT, "pseudonym", ("case_ref", "participants"), 180)
        for r in ("leerplicht", "swv", "ggd", "wij")
    },
    **{
        ("case_response", s, "school"): (*CONSENT, "pseudonym", ("case_ref",), 180)
        for s in ("ggd", "swv", "wij", "leerplicht")
    },
    **{
        ("case_agreements", "school", r): (*CONSENT, "pseudonym", ("case_ref",), 180)
        for r in ("leerplicht", "swv", "ggd", "wij")
    },
    ("exemption_advice_request", "leerplicht", "ggd"): (
        "exemption_advice",
        "legal_obligation",
        LP_GGD,
        "bsn",
        ("case_ref",),
        365,
    ),
    ("exemption_advice_request", "leerplicht", "swv"): (
        "exemption_advice",
        "legal_obligation",
        LP_SWV,
        "pseudonym",
        ("case_ref",),
        365,
    ),
    ("exemption_medical_advice", "ggd", "leerplicht"): (
        "exemption_advice",
        "legal_obligation",
        "Leerplichtwet 1969 art. 7 lid 1 onder a",
        "bsn",
        (),
        365,
    ),
    ("exemption_education_advice", "swv", "leerplicht"): (
        "exemption_advice",
        "legal_obligation",
        "Leerplichtwet 1969 art. 7; WPO art. 18a / WVO art. 17a",
        "bsn",
        (),
        365,
    ),
}
INVITATION = {
    "meeting": {"date": "2027-03-12", "time": "14:30", "mode": "in_person"},
    "question": "prevent_dropout",
    "concern_categories": ["wellbeing", "family_situation"],
    "education_sector": "po",
    "school_brin": "12AB",
    "date_of_birth": "2014-05-02",
    "unauthorised_hours_4_weeks": 16,
    "sick_days_12_weeks": 9,
    "respond_by": "2027-03-10",
    "contact": {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"},
}


def policies():
    found = {}
    for row in shipped_route_rows():
        policy = policy_from_row(SimpleNamespace(**row))
        found[(policy.message_type, policy.sender_type, policy.recipient_type)] = policy
    return found


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_pact_route_is_as_the_design_says(key):
    policy = policies()[key]
    purpose, basis, citation, identity, gateway_fields, days = EXPECTED[key]
    assert (policy.purpose, policy.legal_basis_type, policy.citation) == (purpose, basis, citation)
    assert policy.identity == identity
    assert policy.profile.gateway_fields == gateway_fields
    assert policy.retention_days == days
    if basis == "consent":
        assert policy.polymorphic is True


def test_no_other_route_carries_a_pact_type_or_a_gateway_field():
    for key, policy in policies().items():
        if key not in EXPECTED:
            assert not key[0].startswith(("case_", "exemption_")), key
            assert policy.profile.gateway_fields == ()


def test_the_swv_gets_the_designs_invitation():
    """Section 3.4: the SWV gets school_brin, the hours and birth_year, no sickness count."""
    policy = policies()[("case_invitation", "school", "swv")]
    minimised = minimise(INVITATION, policy.profile)
    added = add_gateway_fields(minimised, {"case_ref": "ref-swv", "participants": []})
    assert added.payload == {
        "meeting": {"date": "2027-03-12", "time": "14:30", "mode": "in_person"},
        "question": "prevent_dropout",
        "concern_categories": ["wellbeing", "family_situation"],
        "education_sector": "po",
        "school_brin": "12AB",
        "birth_year": 2014,
        "unauthorised_hours_4_weeks": 16,
        "respond_by": "2027-03-10",
        "contact": {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"},
        "case_ref": "ref-swv",
        "participants": [],
    }
    assert added.fields_dropped == ("sick_days_12_weeks",)
    assert added.fields_forwarded[-2:] == ("case_ref", "participants")


def test_the_wij_gets_no_school_and_no_counts():
    minimised = minimise(INVITATION, policies()[("case_invitation", "school", "wij")].profile)
    assert set(minimised.payload) == {
        "meeting",
        "question",
        "concern_categories",
        "education_sector",
        "birth_year",
        "respond_by",
        "contact",
    }


def shipped(message_type, recipient_type):
    for route in yaml.safe_load(SHIPPED_ROUTES.read_text())["routes"]:
        if (route["message_type"], route["recipient_type"]) == (message_type, recipient_type):
            return route
    raise LookupError(message_type)


def test_a_route_cannot_drop_or_invent_a_gateway_field():
    invitation = shipped("case_invitation", "ggd")
    dropped = {**invitation, "profile": {**invitation["profile"], "gateway_fields": ["case_ref"]}}
    assert route_problems(dropped) == [
        (("profile", "gateway_fields"), "must be [case_ref, participants] for case_invitation")
    ]
    report = shipped("absence_report", "leerplicht")
    invented = {**report, "profile": {"keep": "*", "gateway_fields": ["case_ref"]}}
    assert route_problems(invented) == [
        (("profile", "gateway_fields"), "must be absent for absence_report")
    ]


def test_a_partner_cannot_route_a_generated_pact_type():
    for message_type in ("case_reminder", "homebound_escalation", "homebound_escalation_closed"):
        route = {**shipped("case_agreements", "ggd"), "message_type": message_type}
        assert ("message_type",) in [path for path, _ in route_problems(route)]
