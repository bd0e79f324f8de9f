"""Every code of the pact's workflows (issue 20, docs/pact-workflows.md section 9) has a Dutch
name: the enumerations of ``schemas.vocabulary`` each in its own table of
``gateway.web.vocabulary``, the audit actions of sections 2.3 and 5.4, the message types and
purposes, and the problem codes of section 7. A value added to an enumeration without a Dutch
name makes this test fail. (``test_labels.py`` collects codes from where the product writes
them; the pact's actions use prefixes it does not scan, so they are listed here.)
"""

from __future__ import annotations

import re

import pytest

from gateway.web import vocabulary
from schemas import vocabulary as contract

#: (kind in gateway.web.vocabulary, the enumeration it names), written out from the design
ENUMERATIONS = [
    ("case_kind", contract.CASE_KINDS),
    ("case_status", contract.CASE_STATUSES),
    ("participant_role", contract.PARTICIPANT_ROLES),
    ("participant_status", contract.PARTICIPANT_STATUSES),
    ("meeting_mode", contract.MEETING_MODES),
    ("case_question", contract.CASE_QUESTIONS),
    ("case_response", contract.CASE_RESPONSES),
    ("decline_reason", contract.DECLINE_REASONS),
    ("agreement_action", contract.AGREEMENT_ACTIONS),
    ("agreement_party", (*contract.AGREEMENT_PARTY_ROLES, contract.CONVENER_PARTY)),
    ("agreement_status", contract.AGREEMENT_STATUSES),
    ("close_reason", contract.CASE_CLOSE_REASONS),
    ("close_reason", contract.ESCALATION_CLOSE_REASONS),
    ("reminder", contract.REMINDER_KINDS),
    ("medical_advice", (*contract.MEDICAL_ADVICE, contract.ADVICE_NONE)),
    ("education_arrangement", (*contract.EDUCATION_ARRANGEMENTS, contract.ADVICE_NONE)),
    ("education_option", contract.EDUCATION_OPTIONS),
    ("exemption_decision", contract.EXEMPTION_DECISIONS),
    ("statement_by", contract.STATEMENT_BY),
    ("enrolment", contract.ENROLMENT),
    ("homebound_category", contract.ESCALATING_CATEGORIES),
]

PACT_TYPES = (
    "case_invitation",
    "case_response",
    "case_agreements",
    "case_reminder",
    "exemption_advice_request",
    "exemption_medical_advice",
    "exemption_education_advice",
    "homebound_escalation",
    "homebound_escalation_closed",
)
PACT_CODES = (
    "recipient_unresolved",
    "recipient_ambiguous",
    "case_action_not_allowed",
    "case_closed",
    "case_already_answered",
    "unknown_participant",
)


def pairs() -> list[tuple[str, str]]:
    found = {(kind, code) for kind, codes in ENUMERATIONS for code in codes}
    found |= {("message_type", code) for code in PACT_TYPES}
    found |= {("purpose", code) for code in ("exemption_advice", "homebound_escalation")}
    return sorted(found)


def shows_no_code(name: str, code: str) -> bool:
    return name != code and not re.search(rf"(?<![\w.:-]){re.escape(code)}(?![\w.:-])", name)


def test_the_enumerations_are_the_designs():
    """The lists are not empty by accident: spot checks written from the design."""
    assert ("decline_reason", "other_party_better_placed") in pairs()
    assert ("close_reason", "consent_expired") in pairs()
    assert ("close_reason", "exempted_5a") in pairs()
    assert ("medical_advice", "none") in pairs()
    assert ("agreement_party", "school") in pairs()
    assert len(pairs()) == 88 + 9 + 2  # enumeration values, message types, purposes


@pytest.mark.parametrize(("kind", "code"), pairs())
def test_every_pact_code_has_a_dutch_name(kind, code):
    assert code in vocabulary.KINDS[kind], f"{kind} {code} has no Dutch name"
    name = vocabulary.name(kind, code)
    assert name and shows_no_code(name, code), name


def test_the_design_names_of_the_message_types_and_purposes():
    """Section 9 gives these names word for word."""
    assert vocabulary.name("message_type", "case_invitation") == "Uitnodiging casusoverleg"
    assert vocabulary.name("message_type", "homebound_escalation_closed") == "Escalatie beëindigd"
    assert vocabulary.name("purpose", "exemption_advice") == "Advies vrijstelling leerplicht"
    assert vocabulary.name("purpose", "homebound_escalation") == (
        "Regie en doorzettingsmacht thuiszitters"
    )


@pytest.mark.parametrize("action", contract.PACT_AUDIT_ACTIONS)
def test_every_pact_audit_action_has_a_dutch_name(action):
    assert action in vocabulary.ACTIONS
    name = vocabulary.action(action)
    assert name != "andere handeling" and len(name.split()) >= 2
    assert shows_no_code(name, action), name


def test_the_audit_actions_are_the_designs():
    assert set(contract.PACT_AUDIT_ACTIONS) == {
        "case.open",
        "case.accept",
        "case.decline",
        "case.agree",
        "case.agreement_done",
        "case.remind",
        "case.close",
        "case.read",
        "case.disclose",
        "exemption.decide",
        "escalation.open",
        "escalation.close",
        "admin.pact.run",
        "admin.region.create",
        "admin.region.update",
        "admin.region.delete",
    }


def test_the_audit_filter_offers_the_pact_actions():
    """The audit page's action dropdown lists every action of the vocabulary."""
    from gateway.web.auditdesk import known_actions

    assert set(contract.PACT_AUDIT_ACTIONS) <= known_actions()


@pytest.mark.parametrize("code", PACT_CODES)
def test_every_pact_problem_code_has_a_dutch_text(code):
    assert vocabulary.TEXTS[code] != vocabulary.FALLBACK
    assert vocabulary.text(code).endswith(".")
    assert shows_no_code(vocabulary.refusal(code), code)


def test_a_region_admin_action_built_from_parts_reads_in_dutch():
    assert vocabulary.action("admin.region.delete") == "beheer: regio verwijderd"
