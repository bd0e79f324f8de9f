"""The team around the child (casusoverleg, issue 20) over HTTP against a real gunicorn
server, with real OAuth tokens and the real CLI.

Written from the design (docs/pact-workflows.md sections 2, 3, 7 and the list of 10.2), not
from the code: every participant's inbox is written out by hand as a literal list and
compared after putting in the pseudonyms (computed from the server's key), the ids and the
case references the test collected; created_at and transaction ids are checked apart.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from unittest.mock import ANY

import pytest
import requests

from pseudonymise import generate_valid_bsns
from tests import exchange_helpers as ex
from tests.e2e import pact_helpers as ph
from tests.e2e.pact_helpers import get, org, post, without_volatile

TODAY = ex.today()
D = TODAY
CHILDREN = list(generate_valid_bsns(8, seed=2020))
HAPPY, REFUSED, NO_CONSENT_FOR_WIJ, DECLINES, SUSPENDED, OUTSIDER, WITHDRAWN, IDEMPOTENT = CHILDREN
INVITEES = [ex.GGD, ex.LEERPLICHT, ex.SWV, ex.WIJ]
CONTACT = {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"}
GGD_CONTACT = {"name": "Jeugdverpleegkundige A. Smit", "email": "jgz@ggd.example.nl"}
MEETING = {"date": (D + timedelta(days=3)).isoformat(), "time": "14:30", "mode": "in_person"}
CONSENT_PURPOSE = "case_consultation"
OPENED: list[tuple] = []
"""(convener, case_ref) of every case a test opened: closed after the test, so that no later
``pact run`` reminds anyone of it."""


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    live = ph.own_server(tmp_path_factory, keys_dir, "pact-consultation")
    yield live
    ph.stop_server(live.process)


@pytest.fixture(scope="module")
def partners(server, tmp_path_factory):
    return ph.pact_partners(server, tmp_path_factory.mktemp("pact-consultation-partners"))


@pytest.fixture(scope="module")
def pseudonymiser(server):
    return ph.make_pseudonymiser(server)


@pytest.fixture(autouse=True)
def empty_inboxes_and_closed_cases(partners):
    for partner in partners.values():
        if partner.type != "operator":
            partner.drain()
    yield
    while OPENED:
        convener, ref = OPENED.pop()
        post(convener, f"/api/v1/cases/{ref}/close", {"reason": "other"})


def invitation(bsn: str, unauthorised=16, sick=9) -> dict:
    """The ``payload`` of ``POST /api/v1/cases`` (design 3.3), as the school writes it."""
    return {
        "meeting": MEETING,
        "question": "prevent_dropout",
        "concern_categories": ["wellbeing", "family_situation"],
        "education_sector": "po",
        "school_brin": "12AB",
        "date_of_birth": ex.born(TODAY, 12),
        "unauthorised_hours_4_weeks": unauthorised,
        "sick_days_12_weeks": sick,
        "respond_by": (D + timedelta(days=2)).isoformat(),
        "contact": CONTACT,
    }


def open_consultation(partners, bsn, invite, key=None):
    body = {
        "kind": "consultation",
        "subject": {"bsn": bsn},
        "invite": invite,
        "payload": invitation(bsn),
    }
    response = ph.open_case(partners[ex.SCHOOL], body, key)
    if response.status_code == 201:
        OPENED.append((partners[ex.SCHOOL], response.json()["case_ref"]))
    return response


def opened(partners, bsn, invite=None) -> tuple[str, dict]:
    """Open a consultation that must succeed: the school's ref and each invitee's
    invitation exchange id."""
    response = open_consultation(partners, bsn, invite or INVITEES)
    assert response.status_code == 201, response.text
    answer = response.json()
    return answer["case_ref"], {p["oin"]: p["exchange_id"] for p in answer["participants"]}


def refs_from_invitations(partners, oins) -> dict:
    """Each invitee's own case_ref, read from the one invitation in its inbox (drained)."""
    refs = {}
    for oin in oins:
        [item] = partners[oin].drain()
        assert item["message_type"] == "case_invitation"
        refs[oin] = item["payload"]["case_ref"]
    return refs


def accept(partner, ref, body=None):
    return post(partner, f"/api/v1/cases/{ref}/accept", body)


def decline(partner, ref, reason):
    return post(partner, f"/api/v1/cases/{ref}/decline", {"reason": reason})


def record_agreements(partner, ref, body):
    return post(partner, f"/api/v1/cases/{ref}/agreements", body)


def consent_for_all(partners, bsn) -> str:
    return ph.record_consent(
        partners[ex.SCHOOL], bsn, CONSENT_PURPOSE, [ex.SCHOOL, "ggd", "wij", "leerplicht", "swv"]
    )


def events_of_child(partners, pseudonymiser, bsn, start) -> list[dict]:
    """Every event about the child as the operator's readers see it."""
    ref = ph.audit_ref(pseudonymiser, bsn)
    return [e for e in ph.audit_events(partners[ex.OPERATOR], start) if e["subject_ref"] == ref]


# happy path --------------------------------------------------------------------------------
def test_happy_path(server, partners, pseudonymiser):
    start = ph.started(partners[ex.OPERATOR])
    school, ggd, leerplicht = partners[ex.SCHOOL], partners[ex.GGD], partners[ex.LEERPLICHT]
    swv, wij = partners[ex.SWV], partners[ex.WIJ]
    consent = consent_for_all(partners, HAPPY)
    by_area_leerplicht = {"type": "leerplicht", "municipality": "0014"}
    by_area_swv = {"type": "swv", "region": "groningen", "education_sector": "po"}

    response = open_consultation(partners, HAPPY, [ex.GGD, by_area_leerplicht, by_area_swv, ex.WIJ])
    assert response.status_code == 201, response.text
    answer = response.json()
    school_ref = answer["case_ref"]
    assert ph.is_uuid4(school_ref)
    assert (answer["kind"], answer["status"]) == ("consultation", "open")
    assert answer["created_at"] and answer["audit"]["seq"] and answer["audit"]["hash"]
    assert [{k: v for k, v in p.items() if k != "exchange_id"} for p in answer["participants"]] == [
        {
            "oin": ex.GGD,
            "name": "GGD Groningen",
            "type": "ggd",
            "status": "invited",
            "resolved_from": None,
        },
        {
            "oin": ex.LEERPLICHT,
            "name": "Leerplicht Groningen",
            "type": "leerplicht",
            "status": "invited",
            "resolved_from": {"type": "leerplicht", "municipality": "0014"},
        },
        {
            "oin": ex.SWV,
            "name": "SWV Groningen Stad",
            "type": "swv",
            "status": "invited",
            "resolved_from": {"type": "swv", "region": "groningen", "education_sector": "po"},
        },
        {
            "oin": ex.WIJ,
            "name": "WIJ Groningen",
            "type": "wij",
            "status": "invited",
            "resolved_from": None,
        },
    ]
    sent = {p["oin"]: p["exchange_id"] for p in answer["participants"]}
    assert len(set(sent.values())) == 4

    # every invitee finds one invitation, minimised for its type, with its own case_ref
    inboxes = {oin: partners[oin].drain() for oin in INVITEES}
    assert school.drain() == []
    refs = {oin: items[0]["payload"]["case_ref"] for oin, items in inboxes.items()}
    refs[ex.SCHOOL] = school_ref
    assert all(ph.is_uuid4(ref) for ref in refs.values())
    assert len(set(refs.values())) == 5  # one reference per participant, none shared
    assert not set(refs.values()) & set(sent.values())
    participants = [
        {"oin": ex.SCHOOL, "name": "OBS De Regenboog", "type": "school"},
        {"oin": ex.GGD, "name": "GGD Groningen", "type": "ggd"},
        {"oin": ex.LEERPLICHT, "name": "Leerplicht Groningen", "type": "leerplicht"},
        {"oin": ex.SWV, "name": "SWV Groningen Stad", "type": "swv"},
        {"oin": ex.WIJ, "name": "WIJ Groningen", "type": "wij"},
    ]
    school_org = {"oin": ex.SCHOOL, "name": "OBS De Regenboog", "type": "school"}
    by_consent = {"type": "consent", "consent_id": consent}
    birth = ex.born(TODAY, 12)
    respond_by = (D + timedelta(days=2)).isoformat()
    expected = {
        ex.GGD: [
            {
                "id": sent[ex.GGD],
                "message_type": "case_invitation",
                "sender": school_org,
                "subject": {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.GGD)},
                "payload": {
                    "meeting": MEETING,
                    "question": "prevent_dropout",
                    "concern_categories": ["wellbeing", "family_situation"],
                    "education_sector": "po",
                    "birth_year": int(birth[:4]),
                    "sick_days_12_weeks": 9,
                    "unauthorised_hours_4_weeks": 16,
                    "respond_by": respond_by,
                    "contact": CONTACT,
                    "case_ref": refs[ex.GGD],
                    "participants": participants,
                },
                "purpose": "case_consultation",
                "legal_basis": by_consent,
            }
        ],
        ex.LEERPLICHT: [
            {  # OPEN-8 ("or pseudonym"): a consent route forwards no BSN, so its pseudonym
                "id": sent[ex.LEERPLICHT],
                "message_type": "case_invitation",
                "sender": school_org,
                "subject": {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.LEERPLICHT)},
                "payload": {
                    "meeting": MEETING,
                    "question": "prevent_dropout",
                    "concern_categories": ["wellbeing", "family_situation"],
                    "education_sector": "po",
                    "school_brin": "12AB",
                    "date_of_birth": birth,
                    "unauthorised_hours_4_weeks": 16,
                    "sick_days_12_weeks": 9,
                    "respond_by": respond_by,
                    "contact": CONTACT,
                    "case_ref": refs[ex.LEERPLICHT],
                    "participants": participants,
                },
                "purpose": "case_consultation",
                "legal_basis": by_consent,
            }
        ],
        ex.SWV: [
            {
                "id": sent[ex.SWV],
                "message_type": "case_invitation",
                "sender": school_org,
                "subject": {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.SWV)},
                "payload": {
                    "meeting": MEETING,
                    "question": "prevent_dropout",
                    "concern_categories": ["wellbeing", "family_situation"],
                    "education_sector": "po",
                    "school_brin": "12AB",
                    "unauthorised_hours_4_weeks": 16,
                    "birth_year": int(birth[:4]),
                    "respond_by": respond_by,
                    "contact": CONTACT,
                    "case_ref": refs[ex.SWV],
                    "participants": participants,
                },
                "purpose": "case_consultation",
                "legal_basis": by_consent,
            }
        ],
        ex.WIJ: [
            {
                "id": sent[ex.WIJ],
                "message_type": "case_invitation",
                "sender": school_org,
                "subject": {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.WIJ)},
                "payload": {
                    "meeting": MEETING,
                    "question": "prevent_dropout",
                    "concern_categories": ["wellbeing", "family_situation"],
                    "education_sector": "po",
                    "birth_year": int(birth[:4]),
                    "respond_by": respond_by,
                    "contact": CONTACT,
                    "case_ref": refs[ex.WIJ],
                    "participants": participants,
                },
                "purpose": "case_consultation",
                "legal_basis": by_consent,
            }
        ],
    }
    for oin in INVITEES:
        assert without_volatile(inboxes[oin]) == expected[oin], oin
    transaction_ids = [items[0]["fsc_transaction_id"] for items in inboxes.values()]
    assert len(set(transaction_ids)) == 4  # rule 1: one transaction id per recipient

    # all four accept (the GGD with a contact for the meeting); the school hears of each
    for oin in INVITEES:
        body = {"contact": GGD_CONTACT} if oin == ex.GGD else None
        accepted = accept(partners[oin], refs[oin], body)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json() == {"case_ref": refs[oin], "status": "accepted", "responded_at": ANY}
    school_pseudonym = {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.SCHOOL)}
    responses = school.drain()
    assert without_volatile(responses) == [
        {
            "id": ANY,
            "message_type": "case_response",
            "sender": {"oin": ex.GGD, "name": "GGD Groningen", "type": "ggd"},
            "subject": school_pseudonym,
            "payload": {
                "in_reply_to": sent[ex.GGD],
                "response": "accepted",
                "contact": GGD_CONTACT,
                "case_ref": school_ref,
            },
            "purpose": "case_consultation",
            "legal_basis": by_consent,
        },
        {
            "id": ANY,
            "message_type": "case_response",
            "sender": {"oin": ex.LEERPLICHT, "name": "Leerplicht Groningen", "type": "leerplicht"},
            "subject": school_pseudonym,
            "payload": {
                "in_reply_to": sent[ex.LEERPLICHT],
                "response": "accepted",
                "case_ref": school_ref,
            },
            "purpose": "case_consultation",
            "legal_basis": by_consent,
        },
        {
            "id": ANY,
            "message_type": "case_response",
            "sender": {"oin": ex.SWV, "name": "SWV Groningen Stad", "type": "swv"},
            "subject": school_pseudonym,
            "payload": {
                "in_reply_to": sent[ex.SWV],
                "response": "accepted",
                "case_ref": school_ref,
            },
            "purpose": "case_consultation",
            "legal_basis": by_consent,
        },
        {
            "id": ANY,
            "message_type": "case_response",
            "sender": {"oin": ex.WIJ, "name": "WIJ Groningen", "type": "wij"},
            "subject": school_pseudonym,
            "payload": {
                "in_reply_to": sent[ex.WIJ],
                "response": "accepted",
                "case_ref": school_ref,
            },
            "purpose": "case_consultation",
            "legal_basis": by_consent,
        },
    ]
    for oin in INVITEES:
        assert partners[oin].drain() == [], oin  # an answer tells the other invitees nothing

    # the outcome: each accepted participant gets the same agreements under its own ref
    day = {n: (D + timedelta(days=n)).isoformat() for n in (7, 14, 21, 28, 35)}
    recorded = record_agreements(
        school,
        school_ref,
        {
            "regie": ex.LEERPLICHT,
            "agreements": [
                {"party": ex.GGD, "action": "jgz_consultation", "due_date": day[14]},
                {"party": ex.WIJ, "action": "support_trajectory", "due_date": day[28]},
                {"party": "school", "action": "adjusted_timetable", "due_date": day[7]},
                {"party": "parents", "action": "attend_conversation", "due_date": day[7]},
                {"party": ex.LEERPLICHT, "action": "leerplicht_conversation", "due_date": day[21]},
            ],
            "next_review_date": day[35],
        },
    )
    assert recorded.status_code == 201, recorded.text
    agreed = recorded.json()
    assert (agreed["case_ref"], agreed["status"]) == (school_ref, "agreed")
    assert [(a["no"], a["action"], a["due_date"]) for a in agreed["agreements"]] == [
        (1, "jgz_consultation", day[14]),
        (2, "support_trajectory", day[28]),
        (3, "adjusted_timetable", day[7]),
        (4, "attend_conversation", day[7]),
        (5, "leerplicht_conversation", day[21]),
    ]
    assert sorted(d["oin"] for d in agreed["delivered"]) == sorted(INVITEES)
    assert agreed["not_delivered"] == []
    agreements_sent = {d["oin"]: d["exchange_id"] for d in agreed["delivered"]}
    regie = {"oin": ex.LEERPLICHT, "name": "Leerplicht Groningen", "type": "leerplicht"}
    agreements = [
        {
            "no": 1,
            "party": {"oin": ex.GGD, "name": "GGD Groningen", "type": "ggd"},
            "action": "jgz_consultation",
            "due_date": day[14],
        },
        {
            "no": 2,
            "party": {"oin": ex.WIJ, "name": "WIJ Groningen", "type": "wij"},
            "action": "support_trajectory",
            "due_date": day[28],
        },
        {
            "no": 3,
            "party": {"oin": ex.SCHOOL, "name": "OBS De Regenboog", "type": "school"},
            "action": "adjusted_timetable",
            "due_date": day[7],
        },
        {
            "no": 4,
            "party": {"role": "parents"},
            "action": "attend_conversation",
            "due_date": day[7],
        },
        {
            "no": 5,
            "party": {"oin": ex.LEERPLICHT, "name": "Leerplicht Groningen", "type": "leerplicht"},
            "action": "leerplicht_conversation",
            "due_date": day[21],
        },
    ]
    subjects = {
        ex.GGD: {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.GGD)},
        ex.LEERPLICHT: {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.LEERPLICHT)},
        ex.SWV: {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.SWV)},
        ex.WIJ: {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.WIJ)},
    }
    for oin in INVITEES:
        assert without_volatile(partners[oin].drain()) == [
            {
                "id": agreements_sent[oin],
                "message_type": "case_agreements",
                "sender": school_org,
                "subject": subjects[oin],
                "payload": {
                    "case_ref": refs[oin],
                    "regie": regie,
                    "agreements": agreements,
                    "next_review_date": day[35],
                },
                "purpose": "case_consultation",
                "legal_basis": by_consent,
            }
        ], oin
    assert school.drain() == []

    # the views of 3.2 (before the reminders; no view ever holds the subject)
    check_views_after_agreements(partners, refs, sent, agreements, regie)

    # follow-ups: on day 14 the GGD's agreement is due today, the school's (due day 7) a week
    # overdue: the regiehouder is told (a run finding both due sends only overdue, design 5.4);
    # nobody is reminded of the parents' agreement, nor of those not yet due
    operator_org = {"oin": ex.OPERATOR, "name": "Gateway Beheer", "type": "operator"}
    ph.pact_run(server, ph.local(D + timedelta(days=14), 6))
    assert without_volatile(ggd.drain()) == [
        {
            "id": ANY,
            "message_type": "case_reminder",
            "sender": operator_org,
            "subject": {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.GGD)},
            "payload": {
                "case_ref": refs[ex.GGD],
                "agreement_no": 1,
                "action": "jgz_consultation",
                "due_date": day[14],
                "reminder": "due_today",
                "regie": regie,
            },
            "purpose": "case_consultation",
            "legal_basis": by_consent,
        }
    ]
    assert without_volatile(leerplicht.drain()) == [
        {
            "id": ANY,
            "message_type": "case_reminder",
            "sender": operator_org,
            # a generated message carries no BSN: the recipient's own pseudonym for every type
            "subject": {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.LEERPLICHT)},
            "payload": {
                "case_ref": refs[ex.LEERPLICHT],
                "agreement_no": 3,
                "action": "adjusted_timetable",
                "due_date": day[7],
                "reminder": "overdue",
                "regie": regie,
            },
            "purpose": "case_consultation",
            "legal_basis": by_consent,
        }
    ]
    assert school.drain() == [] and swv.drain() == [] and wij.drain() == []
    ph.pact_run(server, ph.local(D + timedelta(days=14), 6))  # the same run again: nothing
    for partner in (school, ggd, leerplicht, swv, wij):
        assert partner.drain() == [], partner.oin

    # the trail (operator): every step audited, each disclosure once
    events = [
        e
        for e in events_of_child(partners, pseudonymiser, HAPPY, start)
        if e["decision"] == "allowed"
    ]
    count = {}
    for event in events:
        count[event["action"]] = count.get(event["action"], 0) + 1
    for action, expected_count in (
        ("case.open", 1),
        ("case.accept", 4),
        ("case.agree", 1),
        ("case.remind", 2),
        ("case.disclose", 16),
    ):
        assert count.get(action, 0) == expected_count, action
    sends = {}
    for event in events:
        if event["action"] == "exchange.send":
            sends[event["message_type"]] = sends.get(event["message_type"], 0) + 1
    assert sends == {
        "case_invitation": 4,
        "case_response": 4,
        "case_agreements": 4,
        "case_reminder": 2,
    }
    disclosures = [e for e in events if e["action"] == "case.disclose"]
    assert sorted((e["recipient"], e["sender"]) for e in disclosures) == sorted(
        (learner, learned)
        for learner in INVITEES
        for learned in [ex.SCHOOL, *INVITEES]
        if learned != learner
    )
    for event in disclosures:
        assert event["actor"]["org"] == ex.SCHOOL
        assert event["purpose"] == "case_consultation"
        assert event["message_type"] is None
    assert school_ref not in json.dumps(events)  # no case value in the audit (2.2)
    assert not any(ref in json.dumps(events) for ref in refs.values())

    # closing; any later action is refused
    closed = post(school, f"/api/v1/cases/{school_ref}/close", {"reason": "completed"})
    assert closed.status_code == 200, closed.text
    assert closed.json() == {
        "case_ref": school_ref,
        "status": "closed",
        "closed_at": ANY,
        "close_reason": "completed",
    }
    late = accept(ggd, refs[ex.GGD])
    assert late.status_code == 409 and late.json()["code"] == "case_closed"
    again = record_agreements(
        school,
        school_ref,
        {
            "regie": ex.SCHOOL,
            "next_review_date": day[35],
            "agreements": [{"party": "school", "action": "other", "due_date": day[7]}],
        },
    )
    assert again.status_code == 409 and again.json()["code"] == "case_closed"
    for partner in (school, ggd, leerplicht, swv, wij):
        assert partner.drain() == [], partner.oin


def check_views_after_agreements(partners, refs, sent, agreements, regie):
    school_ref = refs[ex.SCHOOL]
    convener = get(partners[ex.SCHOOL], f"/api/v1/cases/{school_ref}")
    assert convener.status_code == 200, convener.text
    view = convener.json()
    assert "subject" not in view
    assert {
        k: view[k]
        for k in (
            "case_ref",
            "kind",
            "role",
            "status",
            "closed_at",
            "close_reason",
            "meeting",
            "regie",
            "next_review_date",
        )
    } == {
        "case_ref": school_ref,
        "kind": "consultation",
        "role": "convener",
        "status": "agreed",
        "closed_at": None,
        "close_reason": None,
        "meeting": MEETING,
        "regie": regie,
        "next_review_date": (D + timedelta(days=35)).isoformat(),
    }
    assert view["created_at"] and view["updated_at"]
    assert view["participants"] == [
        {
            "oin": oin,
            "name": ph.NAMES[oin],
            "type": ph.TYPES[oin],
            "status": "accepted",
            "organisation_status": "active",
            "responded_at": ANY,
            "decline_reason": None,
            "exchange_id": sent[oin],
        }
        for oin in INVITEES
    ]
    assert view["agreements"] == [dict(a, status="open", done_at=None) for a in agreements]

    for oin in INVITEES:
        answer = get(partners[oin], f"/api/v1/cases/{refs[oin]}")
        assert answer.status_code == 200, answer.text
        seen = answer.json()
        assert "subject" not in seen
        assert (seen["case_ref"], seen["kind"], seen["role"], seen["status"]) == (
            refs[oin],
            "consultation",
            "invitee",
            "agreed",
        )
        assert seen["its_status"] == "accepted"
        assert seen["invitation_exchange_id"] == sent[oin]
        assert seen["meeting"] == MEETING and seen["regie"] == regie
        assert seen["convener"] == org(ex.SCHOOL)
        assert all(set(p) == {"oin", "name", "type"} for p in seen["participants"])
        assert {p["oin"] for p in seen["participants"]} - {ex.SCHOOL} == set(INVITEES)
        assert [
            {k: a[k] for k in ("no", "party", "action", "due_date")} for a in seen["agreements"]
        ] == agreements
        text = json.dumps(seen)
        others = [ref for owner, ref in refs.items() if owner != oin]
        assert not any(ref in text for ref in others), oin  # only its own reference
        assert "decline_reason" not in text and "organisation_status" not in text


def test_open_is_idempotent(partners):
    """The same Idempotency-Key and body answer the same 201 and send nothing twice; another
    body with that key is 409 idempotency_key_reused (design 3.4)."""
    consent_for_all(partners, IDEMPOTENT)
    key = uuid.uuid4().hex
    first = open_consultation(partners, IDEMPOTENT, [ex.GGD], key=key)
    assert first.status_code == 201, first.text
    assert len(partners[ex.GGD].drain()) == 1
    second = open_consultation(partners, IDEMPOTENT, [ex.GGD], key=key)
    assert (second.status_code, second.json()) == (201, first.json())
    assert partners[ex.GGD].drain() == []
    other = open_consultation(partners, IDEMPOTENT, [ex.WIJ], key=key)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert partners[ex.WIJ].drain() == []


# refusals ----------------------------------------------------------------------------------
def test_refused_without_consent(partners, pseudonymiser):
    start = ph.started(partners[ex.OPERATOR])
    school = partners[ex.SCHOOL]
    ph.record_consent(school, REFUSED, "support", ["school", ex.WIJ])  # another purpose
    listed = {oin: ph.case_refs(partners[oin]) for oin in [ex.SCHOOL, *INVITEES]}

    refused = open_consultation(partners, REFUSED, [ex.WIJ, ex.GGD])
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "consent_missing"
    assert "invite.0" in refused.json()["errors"]
    for oin in [ex.SCHOOL, *INVITEES]:
        assert partners[oin].drain() == [], oin
        assert ph.case_refs(partners[oin]) == listed[oin], oin  # nothing stored

    # the refused case.open is in the school's and the operator's audit view only
    def opens(oin):
        return [e for e in ph.audit_events(partners[oin], start, action="case.open")]

    [own] = opens(ex.SCHOOL)
    assert (own["decision"], own["reason"]) == ("denied", "consent_missing")
    assert own["actor"]["org"] == ex.SCHOOL
    [seen] = opens(ex.OPERATOR)
    assert seen["seq"] == own["seq"]
    assert seen["subject_ref"] == ph.audit_ref(pseudonymiser, REFUSED)
    for oin in INVITEES:
        assert opens(oin) == [], oin
    assert not [
        e
        for e in events_of_child(partners, pseudonymiser, REFUSED, start)
        if e["action"] in ("exchange.send", "case.disclose") and e["decision"] == "allowed"
    ]


def test_refused_when_one_invitee_lacks_consent_all_or_nothing(partners, pseudonymiser):
    start = ph.started(partners[ex.OPERATOR])
    ph.record_consent(partners[ex.SCHOOL], NO_CONSENT_FOR_WIJ, CONSENT_PURPOSE, [ex.SCHOOL, "ggd"])
    listed = ph.case_refs(partners[ex.GGD])
    refused = open_consultation(partners, NO_CONSENT_FOR_WIJ, [ex.GGD, ex.WIJ])
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "consent_missing"
    assert list(refused.json()["errors"]) == ["invite.1"]
    # no invitation to the GGD either, though its consent was there
    assert partners[ex.GGD].drain() == [] and partners[ex.WIJ].drain() == []
    assert ph.case_refs(partners[ex.GGD]) == listed
    events = events_of_child(partners, pseudonymiser, NO_CONSENT_FOR_WIJ, start)
    assert [
        (e["action"], e["decision"])
        for e in events
        if e["action"].startswith(("case.", "exchange."))
    ] == [("case.open", "denied")]


def test_invited_party_declines(partners, pseudonymiser):
    school, wij = partners[ex.SCHOOL], partners[ex.WIJ]
    consent = consent_for_all(partners, DECLINES)
    school_ref, sent = opened(partners, DECLINES)
    refs = refs_from_invitations(partners, INVITEES)
    for oin in (ex.GGD, ex.LEERPLICHT, ex.SWV):
        assert accept(partners[oin], refs[oin]).status_code == 200
    assert len(school.drain()) == 3

    declined = decline(wij, refs[ex.WIJ], "no_capacity")
    assert declined.status_code == 200, declined.text
    assert declined.json() == {"case_ref": refs[ex.WIJ], "status": "declined", "responded_at": ANY}
    assert without_volatile(school.drain()) == [
        {
            "id": ANY,
            "message_type": "case_response",
            "sender": {"oin": ex.WIJ, "name": "WIJ Groningen", "type": "wij"},
            "subject": {"pseudonym": ph.pseudonym(pseudonymiser, DECLINES, ex.SCHOOL)},
            "payload": {
                "in_reply_to": sent[ex.WIJ],
                "response": "declined",
                "decline_reason": "no_capacity",
                "case_ref": school_ref,
            },
            "purpose": "case_consultation",
            "legal_basis": {"type": "consent", "consent_id": consent},
        }
    ]
    view = get(wij, f"/api/v1/cases/{refs[ex.WIJ]}").json()
    assert view["its_status"] == "declined" and view["status"] == "open"
    assert "agreements" not in view and "regie" not in view and "subject" not in view

    # the decliner is no party to the outcome
    day7 = (D + timedelta(days=7)).isoformat()
    day35 = (D + timedelta(days=35)).isoformat()
    as_party = record_agreements(
        school,
        school_ref,
        {
            "regie": ex.LEERPLICHT,
            "next_review_date": day35,
            "agreements": [{"party": ex.WIJ, "action": "support_trajectory", "due_date": day7}],
        },
    )
    assert as_party.status_code == 422, as_party.text
    assert as_party.json()["code"] == "unknown_participant"
    assert list(as_party.json()["errors"]) == ["agreements.0.party"]
    as_regie = record_agreements(
        school,
        school_ref,
        {
            "regie": ex.WIJ,
            "next_review_date": day35,
            "agreements": [{"party": ex.GGD, "action": "jgz_consultation", "due_date": day7}],
        },
    )
    assert as_regie.status_code == 422 and as_regie.json()["code"] == "unknown_participant"
    assert list(as_regie.json()["errors"]) == ["regie"]
    for oin in [ex.SCHOOL, *INVITEES]:
        assert partners[oin].drain() == [], oin  # the refusals sent nothing

    recorded = record_agreements(
        school,
        school_ref,
        {
            "regie": ex.LEERPLICHT,
            "next_review_date": day35,
            "agreements": [{"party": ex.GGD, "action": "jgz_consultation", "due_date": day7}],
        },
    )
    assert recorded.status_code == 201, recorded.text
    assert sorted(d["oin"] for d in recorded.json()["delivered"]) == sorted(
        [ex.GGD, ex.LEERPLICHT, ex.SWV]
    )
    for oin in (ex.GGD, ex.LEERPLICHT, ex.SWV):
        assert [i["message_type"] for i in partners[oin].drain()] == ["case_agreements"], oin
    assert wij.drain() == []
    view = get(wij, f"/api/v1/cases/{refs[ex.WIJ]}").json()
    assert view["status"] == "agreed" and "agreements" not in view and "regie" not in view

    # the same answer again is a no-op; the other answer is refused
    repeated = decline(wij, refs[ex.WIJ], "no_capacity")
    assert repeated.status_code == 200 and repeated.json() == declined.json()
    late = accept(wij, refs[ex.WIJ])
    assert late.status_code == 409 and late.json()["code"] == "case_already_answered"
    turned = decline(partners[ex.GGD], refs[ex.GGD], "other")
    assert turned.status_code == 409 and turned.json()["code"] == "case_already_answered"
    assert school.drain() == [] and wij.drain() == []


def test_participant_suspended_midway(server, partners, pseudonymiser):
    start = ph.started(partners[ex.OPERATOR])
    school, wij, leerplicht = partners[ex.SCHOOL], partners[ex.WIJ], partners[ex.LEERPLICHT]
    consent = consent_for_all(partners, SUSPENDED)
    school_ref, _ = opened(partners, SUSPENDED)
    refs = refs_from_invitations(partners, INVITEES)
    for oin in INVITEES:
        assert accept(partners[oin], refs[oin]).status_code == 200
    school.drain()

    server.cli("org", "suspend", ex.WIJ)
    try:
        token = requests.post(
            f"{server.url}/oauth/token",
            timeout=10,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": wij.assertion(),
            },
        )
        assert token.status_code == 401 and token.json()["error"] == "invalid_client"

        day = {n: (D + timedelta(days=n)).isoformat() for n in (7, 14, 21, 35)}
        recorded = record_agreements(
            school,
            school_ref,
            {
                "regie": ex.LEERPLICHT,
                "next_review_date": day[35],
                "agreements": [
                    {"party": ex.GGD, "action": "jgz_consultation", "due_date": day[14]},
                    {"party": ex.WIJ, "action": "support_trajectory", "due_date": day[7]},
                    {"party": "school", "action": "adjusted_timetable", "due_date": day[21]},
                ],
            },
        )
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["not_delivered"] == [
            {
                "participant": {"oin": ex.WIJ, "name": "WIJ Groningen", "type": "wij"},
                "reason": "recipient_suspended",
            }
        ]
        assert sorted(d["oin"] for d in recorded.json()["delivered"]) == sorted(
            [ex.GGD, ex.LEERPLICHT, ex.SWV]
        )
        regie = {"oin": ex.LEERPLICHT, "name": "Leerplicht Groningen", "type": "leerplicht"}
        agreements = [
            {
                "no": 1,
                "party": {"oin": ex.GGD, "name": "GGD Groningen", "type": "ggd"},
                "action": "jgz_consultation",
                "due_date": day[14],
            },
            {
                "no": 2,
                "party": {"oin": ex.WIJ, "name": "WIJ Groningen", "type": "wij"},
                "action": "support_trajectory",
                "due_date": day[7],
            },
            {
                "no": 3,
                "party": {"oin": ex.SCHOOL, "name": "OBS De Regenboog", "type": "school"},
                "action": "adjusted_timetable",
                "due_date": day[21],
            },
        ]
        for oin in (ex.GGD, ex.LEERPLICHT, ex.SWV):
            [item] = partners[oin].drain()
            assert (item["message_type"], item["payload"]["case_ref"]) == (
                "case_agreements",
                refs[oin],
            )
            assert item["payload"]["agreements"] == agreements
            assert item["payload"]["regie"] == regie

        view = get(school, f"/api/v1/cases/{school_ref}").json()
        status = {p["oin"]: p["organisation_status"] for p in view["participants"]}
        assert status == {
            ex.GGD: "active",
            ex.LEERPLICHT: "active",
            ex.SWV: "active",
            ex.WIJ: "suspended",
        }
        denied = [
            e
            for e in ph.audit_events(school, start, action="exchange.send")
            if e["decision"] == "denied"
        ]
        assert [(e["recipient"], e["reason"], e["message_type"]) for e in denied] == [
            (ex.WIJ, "recipient_suspended", "case_agreements")
        ]

        # on agreement 2's due date the regiehouder is reminded instead of the suspended party
        ph.pact_run(server, ph.local(D + timedelta(days=7), 6))
        assert without_volatile(leerplicht.drain()) == [
            {
                "id": ANY,
                "message_type": "case_reminder",
                "sender": {"oin": ex.OPERATOR, "name": "Gateway Beheer", "type": "operator"},
                "subject": {"pseudonym": ph.pseudonym(pseudonymiser, SUSPENDED, ex.LEERPLICHT)},
                "payload": {
                    "case_ref": refs[ex.LEERPLICHT],
                    "agreement_no": 2,
                    "action": "support_trajectory",
                    "due_date": day[7],
                    "reminder": "party_suspended",
                    "regie": regie,
                },
                "purpose": "case_consultation",
                "legal_basis": {"type": "consent", "consent_id": consent},
            }
        ]
        for oin in (ex.SCHOOL, ex.GGD, ex.SWV):
            assert partners[oin].drain() == [], oin
    finally:
        server.cli("org", "activate", ex.WIJ)
        wij._tokens.clear()

    # nothing is sent on reactivation (OPEN-6): no agreements, no reminder
    assert wij.drain() == []
    mine = ph.audit_events(wij, start, action="exchange.send")
    assert not [e for e in mine if e["decision"] == "denied"]
    assert not [e for e in mine if e["message_type"] in ("case_agreements", "case_reminder")]


def test_non_participant_gets_404(partners):
    consent_for_all(partners, OUTSIDER)
    school_ref, _ = opened(partners, OUTSIDER, [ex.GGD, ex.WIJ])
    refs = refs_from_invitations(partners, [ex.GGD, ex.WIJ])
    outsider = partners[ex.LEK_LEERPLICHT]  # not invited, valid token

    unknown = get(outsider, f"/api/v1/cases/{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    for reader, ref in (
        (outsider, refs[ex.GGD]),
        (outsider, school_ref),
        (partners[ex.GGD], school_ref),
        (partners[ex.GGD], refs[ex.WIJ]),
    ):
        answer = get(reader, f"/api/v1/cases/{ref}")
        assert answer.status_code == 404, (reader.oin, answer.text)
        assert ph.problem_without_instance(answer) == ph.problem_without_instance(unknown)
    unknown_accept = post(partners[ex.WIJ], f"/api/v1/cases/{uuid.uuid4()}/accept")
    foreign_accept = post(partners[ex.WIJ], f"/api/v1/cases/{refs[ex.GGD]}/accept")
    assert foreign_accept.status_code == 404
    assert ph.problem_without_instance(foreign_accept) == ph.problem_without_instance(
        unknown_accept
    )
    assert ph.case_refs(outsider) == []
    assert refs[ex.GGD] not in ph.case_refs(partners[ex.WIJ])
    # the WIJ's own ref still answers it: the 404 was about the ref, not the caller
    assert get(partners[ex.WIJ], f"/api/v1/cases/{refs[ex.WIJ]}").json()["its_status"] == (
        "invited"
    )


def test_consent_withdrawn_closes_the_case(server, partners):
    school, ggd, wij = partners[ex.SCHOOL], partners[ex.GGD], partners[ex.WIJ]
    consent = ph.record_consent(school, WITHDRAWN, CONSENT_PURPOSE, [ex.SCHOOL, "ggd", "wij"])
    school_ref, sent = opened(partners, WITHDRAWN, [ex.GGD, ex.WIJ])
    refs = refs_from_invitations(partners, [ex.GGD, ex.WIJ])
    assert accept(ggd, refs[ex.GGD]).status_code == 200
    day7 = (D + timedelta(days=7)).isoformat()
    recorded = record_agreements(
        school,
        school_ref,
        {
            "regie": ex.GGD,
            "next_review_date": (D + timedelta(days=35)).isoformat(),
            "agreements": [{"party": ex.GGD, "action": "jgz_consultation", "due_date": day7}],
        },
    )
    assert recorded.status_code == 201, recorded.text
    [agreements_to_ggd] = [d["exchange_id"] for d in recorded.json()["delivered"]]
    for partner in partners.values():
        if partner.type != "operator":
            partner.drain()

    withdrawn = ph.withdraw_consent(school, consent)
    assert withdrawn.status_code == 200, withdrawn.text
    operator_org = {"oin": ex.OPERATOR, "name": "Gateway Beheer", "type": "operator"}
    notice_basis = {
        "type": "legal_obligation",
        "citation": "AVG art. 19 (kennisgeving van rectificatie, wissing of beperking)",
    }
    notices = {oin: partners[oin].drain() for oin in (ex.GGD, ex.WIJ)}
    for items in notices.values():
        for item in items:
            item["payload"]["exchange_ids"] = sorted(item["payload"]["exchange_ids"])
    assert without_volatile(notices[ex.GGD]) == [
        {
            "id": ANY,
            "message_type": "consent_withdrawn",
            "sender": operator_org,
            "subject": None,
            "payload": {
                "consent_id": consent,
                "withdrawn_at": ANY,
                "exchange_ids": sorted([sent[ex.GGD], agreements_to_ggd]),
                "requested": "stop_processing_under_consent",
            },
            "purpose": "case_consultation",
            "legal_basis": notice_basis,
        }
    ]
    assert without_volatile(notices[ex.WIJ]) == [
        {
            "id": ANY,
            "message_type": "consent_withdrawn",
            "sender": operator_org,
            "subject": None,
            "payload": {
                "consent_id": consent,
                "withdrawn_at": ANY,
                "exchange_ids": [sent[ex.WIJ]],
                "requested": "stop_processing_under_consent",
            },
            "purpose": "case_consultation",
            "legal_basis": notice_basis,
        }
    ]
    for oin in (ex.SCHOOL, ex.LEERPLICHT, ex.SWV):  # the school withdrew it itself
        assert partners[oin].drain() == [], oin

    ph.pact_run(server)
    view = get(school, f"/api/v1/cases/{school_ref}").json()
    assert (view["status"], view["close_reason"]) == ("closed", "consent_withdrawn")
    assert view["closed_at"]
    late = accept(wij, refs[ex.WIJ])
    assert late.status_code == 409 and late.json()["code"] == "case_closed"
    ph.pact_run(server, ph.local(D + timedelta(days=7), 6))  # the agreement's due date
    for partner in partners.values():
        if partner.type != "operator":
            assert partner.drain() == [], partner.oin
