"""The case endpoints' bodies (docs/pact-workflows.md section 7): shapes only; what needs the
database (participants, resolution, roles) is the case service's."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.cases import (
    load_case_accept,
    load_case_agreements,
    load_case_close,
    load_case_decision,
    load_case_decline,
    load_case_open,
)
from schemas.errors import SchemaValidationError

TODAY = date(2027, 3, 12)
GGD = "00000001003456789000"
WIJ = "00000001004567890000"
LEERPLICHT = {"type": "leerplicht", "municipality": "0014"}
CONSULTATION = {
    "kind": "consultation",
    "subject": {"bsn": "111222333"},
    "invite": [
        GGD,
        LEERPLICHT,
        {"type": "swv", "region": "groningen", "education_sector": "po"},
        WIJ,
    ],
    "payload": {"meeting": {"date": "2027-03-12"}},
}
EXEMPTION = {
    "kind": "exemption_advice",
    "subject": {"bsn": "111222333"},
    "advisers": [GGD, {"type": "swv", "region": "groningen", "education_sector": "po"}],
    "payload": {"school_year": "2027-2028"},
}
AGREEMENTS = {
    "regie": "00000001004567890000",
    "agreements": [
        {"party": GGD, "action": "jgz_consultation", "due_date": "2027-03-26"},
        {"party": WIJ, "action": "support_trajectory", "due_date": "2027-04-09"},
        {"party": "school", "action": "adjusted_timetable", "due_date": "2027-03-19"},
        {"party": "parents", "action": "attend_conversation", "due_date": "2027-03-19"},
    ],
    "next_review_date": "2027-04-16",
}


def errors(load, *args):
    with pytest.raises(SchemaValidationError) as caught:
        load(*args)
    return caught.value.errors


def test_the_designs_openings_load_as_sent():
    assert load_case_open(CONSULTATION) == CONSULTATION
    assert load_case_open(EXEMPTION) == EXEMPTION


def test_the_payload_is_left_to_the_message_schema():
    assert load_case_open({**CONSULTATION, "payload": {"anything": 1}})["payload"] == {
        "anything": 1
    }
    assert errors(load_case_open, {**CONSULTATION, "payload": []}) == {
        "payload": ["Must be a JSON object."]
    }


def test_each_kind_has_its_own_list_of_recipients():
    found = errors(load_case_open, {**CONSULTATION, "advisers": [GGD]})
    assert found == {"advisers": ["Not allowed when kind is consultation."]}
    without = {key: value for key, value in EXEMPTION.items() if key != "advisers"}
    assert errors(load_case_open, without) == {
        "advisers": ["Required when kind is exemption_advice."]
    }
    assert errors(load_case_open, {**CONSULTATION, "kind": "escalation"}) == {
        "kind": ["Must be one of: consultation, exemption_advice."]
    }


def test_one_to_eight_invitees_and_one_or_two_advisers():
    nine = [f"0000000100000000{n:04d}" for n in range(9)]
    assert errors(load_case_open, {**CONSULTATION, "invite": nine}) == {
        "invite": ["Must contain 1 to 8 entries."]
    }
    assert errors(load_case_open, {**CONSULTATION, "invite": []}) == {
        "invite": ["Must contain 1 to 8 entries."]
    }
    assert errors(load_case_open, {**EXEMPTION, "advisers": [GGD, WIJ, LEERPLICHT]}) == {
        "advisers": ["Must contain 1 to 2 entries."]
    }
    assert load_case_open({**CONSULTATION, "invite": nine[:8]})["invite"] == nine[:8]


def test_an_entry_is_an_oin_or_an_address_object_and_listed_once():
    found = errors(load_case_open, {**CONSULTATION, "invite": [GGD, "ggd", 14]})
    assert found == {
        "invite.1": ["Must be an OIN (20 digits) or a role address object."],
        "invite.2": ["Must be an OIN (20 digits) or a role address object."],
    }
    twice = errors(load_case_open, {**CONSULTATION, "invite": [LEERPLICHT, GGD, LEERPLICHT]})
    assert twice == {
        "invite": ["Must not contain the same entry twice; entry 2 repeats an earlier one."]
    }


def test_the_subject_is_one_way_of_naming_the_child():
    assert "subject" in errors(load_case_open, {**CONSULTATION, "subject": {}})
    assert "subject.name" in errors(load_case_open, {**CONSULTATION, "subject": {"name": "X"}})


def test_unknown_members_are_refused():
    assert errors(load_case_open, {**CONSULTATION, "case_ref": "x"}) == {
        "case_ref": ["Unknown field; it is not part of this message."]
    }


def test_accept_is_empty_or_a_contact():
    assert load_case_accept(None) == {}
    assert load_case_accept({}) == {}
    contact = {"contact": {"name": "Jeugdarts A. de Boer", "email": "jgz@ggd.example.nl"}}
    assert load_case_accept(contact) == contact
    assert errors(load_case_accept, {"remarks": "we komen"}) == {
        "remarks": ["Unknown field; it is not part of this message."]
    }


def test_decline_needs_a_reason_code():
    assert load_case_decline({"reason": "not_involved"}) == {"reason": "not_involved"}
    assert errors(load_case_decline, {}) == {"reason": ["This field is required."]}
    assert "reason" in errors(load_case_decline, {"reason": "busy"})


def test_the_designs_agreements_load():
    assert load_case_agreements(AGREEMENTS, TODAY) == AGREEMENTS


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"regie": "school"}, "regie", "Must be an OIN: exactly 20 digits 0-9."),
        ({"agreements": []}, "agreements", "Must contain 1 to 20 entries."),
        (
            {"agreements": [AGREEMENTS["agreements"][0]] * 21},
            "agreements",
            "Must contain 1 to 20 entries.",
        ),
        (
            {
                "agreements": [
                    {"party": "grandparents", "action": "other", "due_date": "2027-03-26"}
                ]
            },
            "agreements.0.party",
            "Must be an OIN (20 digits), school, parents or youth.",
        ),
        (
            {"agreements": [{"party": GGD, "action": "medication", "due_date": "2027-03-26"}]},
            "agreements.0.action",
            None,
        ),
        (
            {"agreements": [{"party": GGD, "action": "other", "due_date": "2027-03-11"}]},
            "agreements.0.due_date",
            "Must be today or later.",
        ),
        (
            {"agreements": [{"party": GGD, "action": "other", "due_date": "2028-03-13"}]},
            "agreements.0.due_date",
            "Must be at most a year ahead.",
        ),
        ({"next_review_date": "2027-03-11"}, "next_review_date", "Must be today or later."),
    ],
)
def test_bad_agreements_are_refused_at_their_path(changes, path, message):
    found = errors(load_case_agreements, {**AGREEMENTS, **changes}, TODAY)
    assert path in found
    if message is not None:
        assert found[path] == [message]


def test_an_agreement_may_be_due_today_or_a_leap_year_ahead():
    today = {"party": "youth", "action": "other", "due_date": "2027-03-12"}
    ahead = {"party": "youth", "action": "other", "due_date": "2028-03-12"}
    loaded = load_case_agreements({**AGREEMENTS, "agreements": [today, ahead]}, TODAY)
    assert [a["due_date"] for a in loaded["agreements"]] == ["2027-03-12", "2028-03-12"]


def test_a_decision_with_a_validity_only_for_an_exemption():
    exempted = {"decision": "exempted_5a", "decided_on": "2027-03-12", "valid_until": "2028-07-31"}
    assert load_case_decision(exempted, TODAY) == exempted
    assert load_case_decision({"decision": "not_exempted", "decided_on": "2027-03-01"}, TODAY)
    assert errors(load_case_decision, {**exempted, "decision": "not_exempted"}, TODAY) == {
        "valid_until": ["Only allowed when decision is exempted_5a."]
    }
    assert errors(load_case_decision, {**exempted, "valid_until": "2027-03-11"}, TODAY) == {
        "valid_until": ["Must not be before decided_on."]
    }
    assert errors(load_case_decision, {**exempted, "decided_on": "2027-03-13"}, TODAY) == {
        "decided_on": ["Must not be in the future."]
    }
    assert "decision" in errors(
        load_case_decision, {"decision": "exempted", "decided_on": "2027-03-12"}, TODAY
    )


def test_a_convener_closes_with_its_own_reasons_only():
    for reason in ("completed", "no_longer_needed", "other"):
        assert load_case_close({"reason": reason}) == {"reason": reason}
    for reason in ("consent_withdrawn", "placed", "exempted"):
        assert errors(load_case_close, {"reason": reason}) == {
            "reason": ["Must be one of: completed, no_longer_needed, other."]
        }
