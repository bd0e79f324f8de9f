"""The nine message types of the pact's workflows (docs/pact-workflows.md sections 3.3, 4.2,
5.2): a valid payload loads as it is; an unknown field (a diagnosis above all), a value outside
its enumeration and a date on the wrong side of today are refused at their own path.

Today is 2027-03-02 (the design's consultation example); the payloads are the design's.
"""

from __future__ import annotations

from datetime import date

import pytest

from schemas.errors import SchemaValidationError
from schemas.messages import load_payload

TODAY = date(2027, 3, 2)
CONTACT = {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"}
ORG = {"oin": "00000001005678901000", "name": "Gemeente Groningen Leerplicht", "type": "leerplicht"}
GGD = {"oin": "00000001003456789000", "name": "GGD Groningen Jeugdgezondheidszorg", "type": "ggd"}
CASE_REF = "5f0c1d2e-8a44-4b1e-9d0f-2b7c4e1a9f10"

VALID = {
    "case_invitation": {
        "meeting": {"date": "2027-03-12", "time": "14:30", "mode": "in_person"},
        "question": "prevent_dropout",
        "concern_categories": ["wellbeing", "family_situation"],
        "education_sector": "po",
        "school_brin": "12AB",
        "date_of_birth": "2014-05-02",
        "unauthorised_hours_4_weeks": 16,
        "sick_days_12_weeks": 9,
        "respond_by": "2027-03-10",
        "contact": CONTACT,
    },
    "case_response": {
        "in_reply_to": "91aa-wij",
        "response": "declined",
        "decline_reason": "not_involved",
    },
    "case_agreements": {
        "regie": ORG,
        "agreements": [
            {"no": 1, "party": GGD, "action": "jgz_consultation", "due_date": "2027-03-26"},
            {
                "no": 2,
                "party": {"role": "parents"},
                "action": "attend_conversation",
                "due_date": "2027-03-19",
            },
        ],
        "next_review_date": "2027-04-16",
    },
    "case_reminder": {
        "case_ref": CASE_REF,
        "agreement_no": 1,
        "action": "jgz_consultation",
        "due_date": "2027-03-26",
        "reminder": "due_today",
        "regie": ORG,
    },
    "exemption_advice_request": {
        "school_year": "2027-2028",
        "requested_on": "2027-02-20",
        "education_sector": "po",
        "date_of_birth": "2014-05-02",
        "enrolment": "enrolled",
        "school_brin": "12AB",
        "statement_by": "physician",
        "respond_by": "2027-03-17",
        "contact": CONTACT,
    },
    "exemption_medical_advice": {
        "in_reply_to": "8d10",
        "advice": "fit_with_adjustments",
        "reassess_after": "2028-01-31",
        "contact": CONTACT,
    },
    "exemption_education_advice": {
        "in_reply_to": "2c55",
        "arrangement": "available_with_conditions",
        "options": ["education_care_arrangement", "adjusted_timetable"],
        "available_from": "2027-08-30",
        "contact": CONTACT,
    },
    "homebound_escalation": {
        "case_ref": CASE_REF,
        "region": "lekstroom",
        "norm_days": 42,
        "since_date": "2027-01-11",
        "days_at_home": 42,
        "category": "long_relative_absence",
        "education_sector": "vo",
        "birth_year": 2012,
        "reporter": ORG,
        "involved": [
            {"oin": "00000001007000000002", "name": "Cals College Nieuwegein", "type": "school"}
        ],
    },
    "homebound_escalation_closed": {
        "case_ref": CASE_REF,
        "reason": "placed",
        "placed_date": "2027-03-01",
        "days_at_home": 49,
    },
}
REPORTER_ESCALATION = {
    "case_ref": CASE_REF,
    "region": "lekstroom",
    "norm_days": 42,
    "since_date": "2027-01-11",
    "days_at_home": 42,
    "holder": {"oin": "00000001007000000003", "name": "SWV VO Zuid Utrecht", "type": "swv"},
    "report_id": "0aa9",
}


def load(message_type, payload):
    return load_payload(message_type, payload, TODAY)


def errors(message_type, payload):
    with pytest.raises(SchemaValidationError) as caught:
        load(message_type, payload)
    return caught.value.errors


def changed(message_type, **changes):
    payload = {**VALID[message_type], **changes}
    return {key: value for key, value in payload.items() if value is not DROP}


DROP = object()


@pytest.mark.parametrize("message_type", sorted(VALID))
def test_the_designs_payload_loads_as_it_is(message_type):
    assert load(message_type, VALID[message_type]) == VALID[message_type]


def test_the_reporters_escalation_and_a_review_reminder_load():
    assert load("homebound_escalation", REPORTER_ESCALATION) == REPORTER_ESCALATION
    review = {
        "case_ref": CASE_REF,
        "due_date": "2027-04-16",
        "reminder": "review_due",
        "regie": ORG,
    }
    assert load("case_reminder", review) == review


@pytest.mark.parametrize("message_type", sorted(VALID))
@pytest.mark.parametrize("field", ["diagnosis", "remarks", "reason_text"])
def test_no_free_text_field_anywhere(message_type, field):
    """Unknown fields are refused: there is no room for a diagnosis or a story."""
    found = errors(message_type, changed(message_type, **{field: "ADHD"}))
    assert found == {f"payload.{field}": ["Unknown field; it is not part of this message."]}


@pytest.mark.parametrize(
    ("message_type", "field", "value", "path"),
    [
        ("case_invitation", "question", "diagnosis", "payload.question"),
        (
            "case_invitation",
            "meeting",
            {"date": "2027-03-12", "mode": "visit"},
            "payload.meeting.mode",
        ),
        (
            "case_invitation",
            "concern_categories",
            ["wellbeing", "adhd"],
            "payload.concern_categories.1",
        ),
        ("case_response", "response", "maybe", "payload.response"),
        ("case_response", "decline_reason", "too_busy", "payload.decline_reason"),
        (
            "case_agreements",
            "agreements",
            [
                {
                    "no": 1,
                    "party": {"role": "grandparents"},
                    "action": "other",
                    "due_date": "2027-03-26",
                }
            ],
            "payload.agreements.0.party.role",
        ),
        (
            "case_agreements",
            "agreements",
            [{"no": 1, "party": GGD, "action": "medication", "due_date": "2027-03-26"}],
            "payload.agreements.0.action",
        ),
        ("case_reminder", "reminder", "yesterday", "payload.reminder"),
        ("exemption_advice_request", "enrolment", "home_schooled", "payload.enrolment"),
        ("exemption_advice_request", "statement_by", "teacher", "payload.statement_by"),
        ("exemption_medical_advice", "advice", "autism", "payload.advice"),
        ("exemption_education_advice", "arrangement", "maybe", "payload.arrangement"),
        ("exemption_education_advice", "options", ["home_schooling"], "payload.options.0"),
        ("homebound_escalation", "category", "exemption_5a", "payload.category"),
        ("homebound_escalation_closed", "reason", "moved_away", "payload.reason"),
    ],
)
def test_a_value_outside_its_enumeration_is_refused_at_its_path(message_type, field, value, path):
    assert path in errors(message_type, changed(message_type, **{field: value}))


@pytest.mark.parametrize(
    ("message_type", "field", "value", "path", "message"),
    [
        (
            "case_invitation",
            "meeting",
            {"date": "2027-03-01", "mode": "online"},
            "payload.meeting.date",
            "Must be today or later.",
        ),
        (
            "case_invitation",
            "respond_by",
            "2027-03-01",
            "payload.respond_by",
            "Must be today or later.",
        ),
        (
            "case_invitation",
            "respond_by",
            "2027-03-13",
            "payload.respond_by",
            "Must not be after meeting.date.",
        ),
        (
            "case_invitation",
            "date_of_birth",
            "2027-01-01",
            "payload.date_of_birth",
            "The child must be 2 to 23 years old (whole years) today.",
        ),
        (
            "exemption_advice_request",
            "requested_on",
            "2027-03-03",
            "payload.requested_on",
            "Must not be in the future.",
        ),
        (
            "exemption_advice_request",
            "respond_by",
            "2027-03-01",
            "payload.respond_by",
            "Must be today or later.",
        ),
        (
            "exemption_advice_request",
            "school_year",
            "2027-2029",
            "payload.school_year",
            "Must be a school year written as YYYY-YYYY, e.g. 2027-2028.",
        ),
        (
            "exemption_advice_request",
            "school_year",
            "2029-2030",
            "payload.school_year",
            "Must start last year, this year or next year.",
        ),
        (
            "exemption_medical_advice",
            "reassess_after",
            "2027-03-01",
            "payload.reassess_after",
            "Must be today or later.",
        ),
        (
            "homebound_escalation",
            "since_date",
            "2027-03-03",
            "payload.since_date",
            "Must not be in the future.",
        ),
        (
            "homebound_escalation_closed",
            "placed_date",
            "2027-03-03",
            "payload.placed_date",
            "Must not be in the future.",
        ),
        (
            "case_agreements",
            "next_review_date",
            "2027-02-31",
            "payload.next_review_date",
            "Must be a real calendar date.",
        ),
    ],
)
def test_a_date_on_the_wrong_side_is_refused_at_its_path(message_type, field, value, path, message):
    assert errors(message_type, changed(message_type, **{field: value}))[path] == [message]


def test_the_meeting_may_be_today_and_the_answer_due_the_same_day():
    payload = changed(
        "case_invitation", meeting={"date": "2027-03-02", "mode": "phone"}, respond_by="2027-03-02"
    )
    assert load("case_invitation", payload)["respond_by"] == "2027-03-02"


def test_a_meeting_time_is_hh_mm():
    found = errors(
        "case_invitation",
        changed(
            "case_invitation", meeting={"date": "2027-03-12", "time": "24:00", "mode": "online"}
        ),
    )
    assert found == {"payload.meeting.time": ["Must be a time written as HH:MM (00:00 to 23:59)."]}


def test_the_gateways_fields_cannot_be_written_by_the_sender():
    """case_ref and participants are added by the gateway after minimisation."""
    found = errors(
        "case_invitation", changed("case_invitation", case_ref=CASE_REF, participants=[ORG])
    )
    assert set(found) == {"payload.case_ref", "payload.participants"}
    assert errors("case_response", changed("case_response", case_ref=CASE_REF)) == {
        "payload.case_ref": ["Unknown field; it is not part of this message."]
    }


def test_the_counts_of_an_invitation_are_optional_and_bounded():
    payload = changed("case_invitation", unauthorised_hours_4_weeks=DROP, sick_days_12_weeks=DROP)
    assert "sick_days_12_weeks" not in load("case_invitation", payload)
    found = errors("case_invitation", changed("case_invitation", sick_days_12_weeks=61))
    assert found == {"payload.sick_days_12_weeks": ["Must be between 0 and 60."]}


def test_a_decline_reason_exactly_when_declined():
    accepted = {"in_reply_to": "91aa", "response": "accepted", "contact": CONTACT}
    assert load("case_response", accepted) == accepted
    assert errors("case_response", {**accepted, "decline_reason": "other"}) == {
        "payload.decline_reason": ["Only allowed when response is declined."]
    }
    assert errors("case_response", {"in_reply_to": "91aa", "response": "declined"}) == {
        "payload.decline_reason": ["Required when response is declined."]
    }
    assert "payload.in_reply_to" in errors("case_response", {"response": "accepted"})


def test_agreements_are_numbered_from_one_and_name_a_party_one_way():
    agreements = VALID["case_agreements"]["agreements"]
    swapped = [dict(agreements[0], no=2), dict(agreements[1], no=1)]
    assert errors("case_agreements", changed("case_agreements", agreements=swapped)) == {
        "payload.agreements.0.no": ["Must be 1."]
    }
    both = [dict(agreements[0], party={**GGD, "role": "youth"})]
    assert "payload.agreements.0.party" in errors(
        "case_agreements", changed("case_agreements", agreements=both)
    )
    half = [dict(agreements[0], party={"oin": GGD["oin"]})]
    assert errors("case_agreements", changed("case_agreements", agreements=half)) == {
        "payload.agreements.0.party": ["Must hold oin, name and type, or role."]
    }
    assert "payload.agreements" in errors(
        "case_agreements", changed("case_agreements", agreements=[])
    )


def test_agreements_keep_a_past_due_date_for_a_late_accept():
    """The day of recording checks the dates (schemas.cases); a late invitee gets them as
    they are."""
    late = [dict(VALID["case_agreements"]["agreements"][0], due_date="2027-01-05")]
    assert load("case_agreements", changed("case_agreements", agreements=late))


def test_a_reminder_names_its_agreement_unless_it_is_the_review():
    assert errors("case_reminder", changed("case_reminder", agreement_no=DROP)) == {
        "payload.agreement_no": ["Required unless reminder is review_due."]
    }
    assert errors("case_reminder", changed("case_reminder", reminder="review_due")) == {
        "payload.agreement_no": ["Not allowed when reminder is review_due."],
        "payload.action": ["Not allowed when reminder is review_due."],
    }
    assert errors(
        "case_reminder", changed("case_reminder", case_ref="5F0C1D2E-8A44-4B1E-9D0F-2B7C4E1A9F10")
    ) == {"payload.case_ref": ["Must be a case reference (a lower-case UUID v4)."]}


def test_an_enrolled_child_names_its_school():
    assert errors(
        "exemption_advice_request", changed("exemption_advice_request", school_brin=DROP)
    ) == {"payload.school_brin": ["Required when enrolment is enrolled."]}
    not_enrolled = changed(
        "exemption_advice_request", enrolment="not_enrolled", school_brin=DROP, statement_by=DROP
    )
    assert load("exemption_advice_request", not_enrolled) == not_enrolled


def test_advice_answers_name_the_request():
    for message_type in ("exemption_medical_advice", "exemption_education_advice"):
        assert errors(message_type, changed(message_type, in_reply_to=DROP)) == {
            "payload.in_reply_to": ["This field is required."]
        }


def test_options_may_be_empty_only_when_nothing_is_available():
    none = changed("exemption_education_advice", arrangement="not_available", options=[])
    assert load("exemption_education_advice", none)["options"] == []
    for arrangement in ("available", "available_with_conditions"):
        found = errors(
            "exemption_education_advice",
            changed("exemption_education_advice", arrangement=arrangement, options=[]),
        )
        assert found == {
            "payload.options": [
                "Must name at least one option unless arrangement is not_available."
            ]
        }
    repeated = ["digital_education", "digital_education"]
    assert "payload.options" in errors(
        "exemption_education_advice", changed("exemption_education_advice", options=repeated)
    )


def test_an_escalation_is_the_holders_or_the_reporters_never_both():
    mixed = {**VALID["homebound_escalation"], "report_id": "0aa9"}
    assert errors("homebound_escalation", mixed) == {
        "payload.report_id": ["Not allowed beside the other recipient's fields."]
    }
    partial = {key: value for key, value in REPORTER_ESCALATION.items() if key != "report_id"}
    assert errors("homebound_escalation", partial) == {
        "payload.report_id": ["This field is required."]
    }
    bare = {
        key: REPORTER_ESCALATION[key]
        for key in ("case_ref", "region", "norm_days", "since_date", "days_at_home")
    }
    assert errors("homebound_escalation", bare) == {
        "payload": ["Must hold the holder's fields or the reporter's."]
    }


def test_an_escalation_closes_with_a_placement_date_exactly_when_placed():
    exempted = {"case_ref": CASE_REF, "reason": "exempted", "days_at_home": 50}
    assert load("homebound_escalation_closed", exempted) == exempted
    assert errors("homebound_escalation_closed", {**exempted, "placed_date": "2027-03-01"}) == {
        "payload.placed_date": ["Only allowed when reason is placed."]
    }
    assert errors(
        "homebound_escalation_closed", changed("homebound_escalation_closed", placed_date=DROP)
    ) == {"payload.placed_date": ["Required when reason is placed."]}
