"""``/api/v1/cases`` through the Flask test client (docs/pact-workflows.md sections 3, 4, 7).

Expected values are written from the design: who receives what, which statuses and codes
answer, which audit events exist. The e2e tests (tests/e2e/test_pact_*.py) cover the same
flows over HTTP with inboxes written out in full.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gateway.audit.models import AuditEventRow
from gateway.exchange.models import Message
from gateway.monitoring.models import MonitoringFact
from gateway.pact.models import PactCase, PactDisclosure
from tests import exchange_helpers as ex
from tests.functional_partners import AppPartners

TODAY = ex.today()


@pytest.fixture
def partners(database_url, keys_dir) -> AppPartners:
    return AppPartners(database_url, keys_dir)


def consent(partners, parties, purpose="case_consultation", bsn=ex.BSN):
    body = {
        "subject": {"bsn": bsn},
        "date_of_birth": ex.born(TODAY, 12),
        "purpose": purpose,
        "parties": parties,
        "granted_by": [{"role": "parent"}, {"role": "youth"}],
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=180)).isoformat(),
        "evidence": {"method": "written", "reference": "TOESTEMMING-1"},
    }
    answer = partners.post(ex.SCHOOL, "/api/v1/consents", body)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def invitation(meeting_in_days: int = 7) -> dict:
    meeting = TODAY + timedelta(days=meeting_in_days)
    return {
        "meeting": {"date": meeting.isoformat(), "time": "14:30", "mode": "in_person"},
        "question": "prevent_dropout",
        "concern_categories": ["wellbeing", "family_situation"],
        "education_sector": "po",
        "school_brin": "12AB",
        "date_of_birth": ex.born(TODAY, 12),
        "unauthorised_hours_4_weeks": 16,
        "sick_days_12_weeks": 9,
        "respond_by": TODAY.isoformat(),
        "contact": {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"},
    }


def open_case(partners, body, sender=ex.SCHOOL, key=None):
    return partners.client.post(
        "/api/v1/cases",
        json=body,
        headers=partners.headers(sender, **{"Idempotency-Key": key or uuid.uuid4().hex}),
    )


def consultation(invite, bsn=ex.BSN) -> dict:
    return {
        "kind": "consultation",
        "subject": {"bsn": bsn},
        "invite": invite,
        "payload": invitation(),
    }


def inbox(partners, oin) -> list[dict]:
    return partners.get(oin, "/api/v1/inbox").json["items"]


def count(partners, model, *where) -> int:
    with partners.services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def events(partners, action, decision="allowed") -> list[AuditEventRow]:
    with partners.services.db.session() as session:
        return list(
            session.scalars(
                select(AuditEventRow).where(
                    AuditEventRow.action == action, AuditEventRow.decision == decision
                )
            )
        )


def test_consultation_open_accept_agree_close(partners):
    consent(partners, [ex.SCHOOL, "ggd", "wij"])
    opened = open_case(partners, consultation([ex.GGD, ex.WIJ]))
    assert opened.status_code == 201, opened.json
    answer = opened.json
    assert answer["kind"] == "consultation" and answer["status"] == "open"
    assert [(p["oin"], p["status"]) for p in answer["participants"]] == [
        (ex.GGD, "invited"),
        (ex.WIJ, "invited"),
    ]
    [ggd_item] = inbox(partners, ex.GGD)
    assert ggd_item["message_type"] == "case_invitation"
    assert set(ggd_item["subject"]) == {"pseudonym"}
    ggd_ref = ggd_item["payload"]["case_ref"]
    assert ggd_ref != answer["case_ref"]
    assert [p["oin"] for p in ggd_item["payload"]["participants"]] == [ex.SCHOOL, ex.GGD, ex.WIJ]
    assert "school_brin" not in ggd_item["payload"] and ggd_item["payload"]["birth_year"]
    [wij_item] = inbox(partners, ex.WIJ)
    wij_ref = wij_item["payload"]["case_ref"]
    # each invitation carries its own transaction id (rule 1)
    assert ggd_item["fsc_transaction_id"] != wij_item["fsc_transaction_id"]
    # each invitee learned of the convener and of the other invitee: 2 x 2 disclosures
    assert count(partners, PactDisclosure) == 4
    assert len(events(partners, "case.disclose")) == 4

    accepted = partners.post(ex.GGD, f"/api/v1/cases/{ggd_ref}/accept")
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "accepted"
    again = partners.post(ex.GGD, f"/api/v1/cases/{ggd_ref}/accept")
    assert again.status_code == 200 and again.json == accepted.json
    declined = partners.post(ex.WIJ, f"/api/v1/cases/{wij_ref}/decline", {"reason": "no_capacity"})
    assert declined.status_code == 200, declined.json
    assert partners.post(ex.WIJ, f"/api/v1/cases/{wij_ref}/accept").json["code"] == (
        "case_already_answered"
    )
    responses = inbox(partners, ex.SCHOOL)
    assert [(r["payload"]["response"], r["sender"]["oin"]) for r in responses] == [
        ("accepted", ex.GGD),
        ("declined", ex.WIJ),
    ]
    assert responses[1]["payload"]["decline_reason"] == "no_capacity"
    assert responses[0]["payload"]["case_ref"] == answer["case_ref"]
    assert responses[0]["payload"]["in_reply_to"] == ggd_item["id"]

    due = (TODAY + timedelta(days=14)).isoformat()
    agreements = {
        "regie": ex.GGD,
        "agreements": [
            {"party": ex.GGD, "action": "jgz_consultation", "due_date": due},
            {"party": "school", "action": "adjusted_timetable", "due_date": due},
            {"party": "parents", "action": "attend_conversation", "due_date": due},
        ],
        "next_review_date": due,
    }
    wrong = dict(agreements, agreements=[{"party": ex.WIJ, "action": "other", "due_date": due}])
    refused = partners.post(ex.SCHOOL, f"/api/v1/cases/{answer['case_ref']}/agreements", wrong)
    assert refused.status_code == 422 and refused.json["code"] == "unknown_participant"
    assert set(refused.json["errors"]) == {"agreements.0.party"}
    not_convener = partners.post(ex.GGD, f"/api/v1/cases/{ggd_ref}/agreements", agreements)
    assert not_convener.status_code == 403
    assert not_convener.json["code"] == "case_action_not_allowed"

    agreed = partners.post(ex.SCHOOL, f"/api/v1/cases/{answer['case_ref']}/agreements", agreements)
    assert agreed.status_code == 201, agreed.json
    assert [d["oin"] for d in agreed.json["delivered"]] == [ex.GGD]
    assert agreed.json["not_delivered"] == []
    [agreement_item] = [
        i for i in inbox(partners, ex.GGD) if i["message_type"] == "case_agreements"
    ]
    assert agreement_item["payload"]["case_ref"] == ggd_ref
    assert [a["no"] for a in agreement_item["payload"]["agreements"]] == [1, 2, 3]
    assert agreement_item["payload"]["agreements"][2]["party"] == {"role": "parents"}
    assert [i["message_type"] for i in inbox(partners, ex.WIJ)] == ["case_invitation"]

    done = partners.post(ex.GGD, f"/api/v1/cases/{ggd_ref}/agreements/1/done")
    assert done.status_code == 200 and done.json["status"] == "done"
    assert partners.post(ex.GGD, f"/api/v1/cases/{ggd_ref}/agreements/2/done").status_code == 404

    convener_view = partners.get(ex.SCHOOL, f"/api/v1/cases/{answer['case_ref']}").json
    assert convener_view["status"] == "agreed" and convener_view["role"] == "convener"
    assert [p["decline_reason"] for p in convener_view["participants"]] == [None, "no_capacity"]
    assert convener_view["agreements"][0]["status"] == "done"
    ggd_view = partners.get(ex.GGD, f"/api/v1/cases/{ggd_ref}").json
    assert ggd_view["its_status"] == "accepted" and len(ggd_view["agreements"]) == 3
    assert all("status" not in p for p in ggd_view["participants"])
    wij_view = partners.get(ex.WIJ, f"/api/v1/cases/{wij_ref}").json
    assert "agreements" not in wij_view and "regie" not in wij_view
    for view in (convener_view, ggd_view, wij_view):
        assert "subject" not in view

    # another participant's ref is not the caller's: the same 404 as a random one
    foreign = partners.get(ex.GGD, f"/api/v1/cases/{wij_ref}")
    random = partners.get(ex.GGD, f"/api/v1/cases/{uuid.uuid4()}")
    assert foreign.status_code == random.status_code == 404
    assert foreign.json["code"] == random.json["code"] == "not_found"

    listed = partners.get(ex.GGD, "/api/v1/cases").json
    assert [i["case_ref"] for i in listed["items"]] == [ggd_ref]

    closed = partners.post(
        ex.SCHOOL, f"/api/v1/cases/{answer['case_ref']}/close", {"reason": "completed"}
    )
    assert closed.status_code == 200 and closed.json["close_reason"] == "completed"
    late = partners.post(ex.GGD, f"/api/v1/cases/{ggd_ref}/decline", {"reason": "other"})
    assert late.status_code == 409 and late.json["code"] == "case_closed"
    # every event of the case carries its index
    with partners.services.db.session() as session:
        case_id = session.scalar(select(PactCase.id))
        sends = session.scalars(
            select(AuditEventRow.case_id).where(AuditEventRow.action == "exchange.send")
        ).all()
    assert set(sends) == {case_id}


def test_refused_without_consent_stores_nothing_and_is_audited_once(partners):
    consent(partners, [ex.SCHOOL, "ggd"])
    messages = count(partners, Message)
    refused = open_case(partners, consultation([ex.GGD, ex.WIJ]))
    assert refused.status_code == 403 and refused.json["code"] == "consent_missing"
    assert set(refused.json["errors"]) == {"invite.1"}
    assert count(partners, Message) == messages
    assert count(partners, PactCase) == 0
    [denied] = events(partners, "case.open", "denied")
    assert denied.recipient is None and denied.subject_ref
    assert inbox(partners, ex.GGD) == []


def test_open_is_idempotent(partners):
    consent(partners, [ex.SCHOOL, "ggd"])
    body = consultation([ex.GGD])
    first = open_case(partners, body, key="k-1")
    second = open_case(partners, body, key="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    other = open_case(partners, consultation([ex.GGD], bsn=ex.OTHER_BSN), key="k-1")
    assert other.status_code == 409 and other.json["code"] == "idempotency_key_reused"
    assert count(partners, PactCase) == 1


def test_bad_parties_are_422(partners):
    consent(partners, [ex.SCHOOL, "ggd"])
    twice = open_case(partners, consultation([ex.GGD, ex.GGD]))
    assert twice.status_code == 422 and twice.json["code"] == "validation_failed"
    itself = open_case(partners, consultation([ex.SCHOOL]))
    assert itself.status_code == 422 and set(itself.json["errors"]) == {"invite.0"}
    kind = open_case(
        partners,
        {"kind": "escalation", "subject": {"bsn": ex.BSN}, "invite": [ex.GGD], "payload": {}},
    )
    assert kind.status_code == 422


def exemption_request() -> dict:
    return {
        "school_year": f"{TODAY.year}-{TODAY.year + 1}",
        "requested_on": TODAY.isoformat(),
        "education_sector": "po",
        "date_of_birth": ex.born(TODAY, 12),
        "enrolment": "enrolled",
        "school_brin": "12AB",
        "statement_by": "physician",
        "respond_by": TODAY.isoformat(),
        "contact": {"name": "L. Bakker", "email": "leerplicht@groningen.example.nl"},
    }


def test_exemption_advice_and_decision(partners):
    body = {
        "kind": "exemption_advice",
        "subject": {"bsn": ex.BSN},
        "advisers": [ex.GGD, ex.SWV],
        "payload": exemption_request(),
    }
    school = open_case(partners, body, sender=ex.SCHOOL)
    assert school.status_code == 403 and school.json["code"] == "route_not_allowed"
    opened = open_case(partners, body, sender=ex.LEERPLICHT)
    assert opened.status_code == 201, opened.json
    ref = opened.json["case_ref"]
    assert opened.json["status"] == "requested"
    [ggd_request] = inbox(partners, ex.GGD)
    [swv_request] = inbox(partners, ex.SWV)
    assert ggd_request["message_type"] == "exemption_advice_request"
    assert "participants" not in ggd_request["payload"]
    assert count(partners, PactDisclosure) == 0
    answer = partners.send(
        ex.GGD,
        "exemption_medical_advice",
        ex.LEERPLICHT,
        {"in_reply_to": ggd_request["id"], "advice": "fit_with_adjustments", "contact": ex.CONTACT},
        subject=ggd_request["subject"],
    )
    assert answer.status_code == 202, answer.json
    view = partners.get(ex.LEERPLICHT, f"/api/v1/cases/{ref}").json
    assert view["status"] == "requested"
    assert view["advice"] == {"medical": "fit_with_adjustments", "education": None}
    ggd_view = partners.get(ex.GGD, f"/api/v1/cases/{swv_request['payload']['case_ref']}")
    assert ggd_view.status_code == 404
    ggd_view = partners.get(ex.GGD, f"/api/v1/cases/{ggd_request['payload']['case_ref']}").json
    assert ggd_view["its_status"] == "answered" and "decision" not in ggd_view
    decided = partners.post(
        ex.LEERPLICHT,
        f"/api/v1/cases/{ref}/decision",
        {"decision": "exempted_5a", "decided_on": TODAY.isoformat()},
    )
    assert decided.status_code == 200, decided.json
    assert decided.json["advice"] == {"medical": "fit_with_adjustments", "education": "none"}
    assert decided.json["status"] == "decided"
    again = partners.post(
        ex.LEERPLICHT,
        f"/api/v1/cases/{ref}/decision",
        {"decision": "not_exempted", "decided_on": TODAY.isoformat()},
    )
    assert again.status_code == 409 and again.json["code"] == "case_closed"
    assert count(partners, MonitoringFact, MonitoringFact.category == "exemption_5a") == 1
    [decide] = events(partners, "exemption.decide")
    assert decide.case_id is not None


def _opened_with(partners, invite, parties):
    consent_id = consent(partners, parties)
    opened = open_case(partners, consultation(invite))
    assert opened.status_code == 201, opened.json
    refs = {}
    for oin in invite:
        [item] = [i for i in inbox(partners, oin) if i["message_type"] == "case_invitation"]
        refs[oin] = item["payload"]["case_ref"]
    return consent_id, opened.json["case_ref"], refs


def _agreements(party=ex.GGD, regie=ex.GGD) -> dict:
    due = (TODAY + timedelta(days=14)).isoformat()
    return {
        "regie": regie,
        "agreements": [{"party": party, "action": "jgz_consultation", "due_date": due}],
        "next_review_date": due,
    }


def test_a_late_accept_gets_the_current_agreements(partners):
    _, school_ref, refs = _opened_with(partners, [ex.GGD, ex.WIJ], [ex.SCHOOL, "ggd", "wij"])
    assert partners.post(ex.GGD, f"/api/v1/cases/{refs[ex.GGD]}/accept").status_code == 200
    agreed = partners.post(ex.SCHOOL, f"/api/v1/cases/{school_ref}/agreements", _agreements())
    assert agreed.status_code == 201, agreed.json
    assert [i["message_type"] for i in inbox(partners, ex.WIJ)] == ["case_invitation"]
    late = partners.post(ex.WIJ, f"/api/v1/cases/{refs[ex.WIJ]}/accept")
    assert late.status_code == 200, late.json
    [agreements] = [i for i in inbox(partners, ex.WIJ) if i["message_type"] == "case_agreements"]
    assert agreements["sender"]["oin"] == ex.SCHOOL
    assert agreements["payload"]["case_ref"] == refs[ex.WIJ]
    assert [a["party"]["oin"] for a in agreements["payload"]["agreements"]] == [ex.GGD]


def test_a_suspended_participant_is_left_out_of_the_agreements(partners):
    _, school_ref, refs = _opened_with(partners, [ex.GGD, ex.WIJ], [ex.SCHOOL, "ggd", "wij"])
    for oin in (ex.GGD, ex.WIJ):
        assert partners.post(oin, f"/api/v1/cases/{refs[oin]}/accept").status_code == 200
    partners.services.registry.set_status(ex.WIJ, "suspended")
    agreed = partners.post(ex.SCHOOL, f"/api/v1/cases/{school_ref}/agreements", _agreements())
    assert agreed.status_code == 201, agreed.json
    assert [d["oin"] for d in agreed.json["delivered"]] == [ex.GGD]
    assert agreed.json["not_delivered"] == [
        {
            "participant": {"oin": ex.WIJ, "name": "WIJ Groningen", "type": "wij"},
            "reason": "recipient_suspended",
        }
    ]
    [denied] = events(partners, "exchange.send", "denied")
    assert (denied.recipient, denied.message_type) == (ex.WIJ, "case_agreements")
    view = partners.get(ex.SCHOOL, f"/api/v1/cases/{school_ref}").json
    assert {p["oin"]: p["organisation_status"] for p in view["participants"]} == {
        ex.GGD: "active",
        ex.WIJ: "suspended",
    }


def test_a_withdrawn_consent_closes_the_case_at_the_next_action(partners):
    consent_id, school_ref, refs = _opened_with(partners, [ex.GGD], [ex.SCHOOL, "ggd"])
    withdrawn = partners.post(
        ex.SCHOOL,
        f"/api/v1/consents/{consent_id}/withdraw",
        {"withdrawn_by": {"role": "parent"}, "reason": "Ouders trekken toestemming in."},
    )
    assert withdrawn.status_code == 200, withdrawn.json
    refused = partners.post(ex.GGD, f"/api/v1/cases/{refs[ex.GGD]}/accept")
    assert refused.status_code == 403 and refused.json["code"] == "consent_withdrawn"
    view = partners.get(ex.SCHOOL, f"/api/v1/cases/{school_ref}").json
    assert (view["status"], view["close_reason"]) == ("closed", "consent_withdrawn")
    again = partners.post(ex.GGD, f"/api/v1/cases/{refs[ex.GGD]}/accept")
    assert again.status_code == 409 and again.json["code"] == "case_closed"
    assert [i["message_type"] for i in inbox(partners, ex.SCHOOL)] == []


def test_no_token_is_never_audited_and_a_refused_action_is(partners):
    before = count(partners, AuditEventRow)
    anonymous = partners.client.post(f"/api/v1/cases/{uuid.uuid4()}/accept")
    bad = partners.client.get("/api/v1/cases", headers={"Authorization": "Bearer nonsense"})
    assert anonymous.status_code == bad.status_code == 401
    assert count(partners, AuditEventRow) == before
    not_found = partners.post(ex.GGD, f"/api/v1/cases/{uuid.uuid4()}/decline", {"reason": "other"})
    assert not_found.status_code == 404
    [denied] = events(partners, "case.decline", "denied")
    assert json.loads(denied.canonical)["reason"] == "not_found"
    assert (denied.subject_ref, denied.case_id) == (None, None)


def test_odd_bodies_and_parameters_are_4xx(partners):
    ref = str(uuid.uuid4())
    for path, body in (
        ("/api/v1/cases", []),
        ("/api/v1/cases", {"kind": "consultation"}),
        (f"/api/v1/cases/{ref}/decline", {"reason": "bored"}),
        (f"/api/v1/cases/{ref}/agreements", {"regie": "x"}),
        (f"/api/v1/cases/{ref}/decision", {"decision": "maybe"}),
        (f"/api/v1/cases/{ref}/close", {}),
        (f"/api/v1/cases/{ref}/agreements/x/done", None),
        ("/api/v1/cases/not-a-ref/accept", None),
    ):
        answer = (
            open_case(partners, body)
            if path == "/api/v1/cases"
            else partners.post(ex.SCHOOL, path, body)
        )
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
    assert partners.get(ex.SCHOOL, "/api/v1/cases", kind="x").status_code == 400
    assert partners.get(ex.SCHOOL, "/api/v1/cases", cursor="!!").status_code == 400
