"""Exemption advice (vrijstelling art. 5 onder a, issue 20) over HTTP against a real gunicorn
server, with real OAuth tokens.

Written from the design (docs/pact-workflows.md sections 2, 4, 7 and the list of 10.2), not
from the code: leerplicht asks the GGD's designated physician and the SWV for advice, each
answers by an ordinary exchange, leerplicht decides. Every inbox is written out by hand and
compared after putting in the pseudonyms (computed from the server's key), ids and case
references the test collected; created_at and transaction ids are checked apart.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from unittest.mock import ANY

import pytest

from pseudonymise import generate_valid_bsns
from tests import exchange_helpers as ex
from tests.e2e import pact_helpers as ph
from tests.e2e.pact_helpers import get, post, without_volatile

TODAY = ex.today()
D = TODAY
HAPPY, DIAGNOSIS, APART, UNANSWERED, BY_SCHOOL = generate_valid_bsns(5, seed=2021)
LEERPLICHT_CONTACT = {
    "name": "L. Bakker, leerplichtambtenaar",
    "email": "leerplicht@groningen.example.nl",
}
GGD_CONTACT = {"name": "Jeugdarts A. de Boer", "email": "jgz@ggd-groningen.example.nl"}
SWV_CONTACT = {"name": "M. Smit, orthopedagoog SWV", "email": "loket@swv-groningen.example.nl"}
SWV_BY_REGION = {"type": "swv", "region": "groningen", "education_sector": "po"}
REQUEST_TO_GGD = "Leerplichtwet 1969 art. 5 onder a en art. 7 lid 1 onder a"
REQUEST_TO_SWV = (
    "Leerplichtwet 1969 art. 7; WPO art. 18a / WVO art. 17a (zorgplicht samenwerkingsverband)"
)
MEDICAL_ADVICE = "Leerplichtwet 1969 art. 7 lid 1 onder a"
EDUCATION_ADVICE = "Leerplichtwet 1969 art. 7; WPO art. 18a / WVO art. 17a"


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    live = ph.own_server(tmp_path_factory, keys_dir, "pact-exemption")
    yield live
    ph.stop_server(live.process)


@pytest.fixture(scope="module")
def partners(server, tmp_path_factory):
    return ph.pact_partners(server, tmp_path_factory.mktemp("pact-exemption-partners"))


@pytest.fixture(scope="module")
def pseudonymiser(server):
    return ph.make_pseudonymiser(server)


@pytest.fixture(autouse=True)
def empty_inboxes(partners):
    for partner in partners.values():
        if partner.type != "operator":
            partner.drain()
    yield


def request_payload() -> dict:
    """The ``payload`` of ``POST /api/v1/cases`` (kind exemption_advice), as leerplicht
    writes it (design 4.2)."""
    return {
        "school_year": ph.school_year(D),
        "requested_on": (D - timedelta(days=10)).isoformat(),
        "education_sector": "po",
        "date_of_birth": ex.born(TODAY, 12),
        "enrolment": "enrolled",
        "school_brin": "12AB",
        "statement_by": "physician",
        "respond_by": (D + timedelta(days=28)).isoformat(),
        "contact": LEERPLICHT_CONTACT,
    }


def open_exemption(partner, bsn, advisers):
    body = {
        "kind": "exemption_advice",
        "subject": {"bsn": bsn},
        "advisers": advisers,
        "payload": request_payload(),
    }
    return ph.open_case(partner, body)


def opened(partners, bsn, advisers=None) -> tuple[str, dict]:
    response = open_exemption(partners[ex.LEERPLICHT], bsn, advisers or [ex.GGD, ex.SWV])
    assert response.status_code == 201, response.text
    answer = response.json()
    return answer["case_ref"], {p["oin"]: p["exchange_id"] for p in answer["participants"]}


def medical_advice(in_reply_to) -> dict:
    return {
        "in_reply_to": in_reply_to,
        "advice": "fit_with_adjustments",
        "reassess_after": (D + timedelta(days=180)).isoformat(),
        "contact": GGD_CONTACT,
    }


def education_advice(in_reply_to) -> dict:
    return {
        "in_reply_to": in_reply_to,
        "arrangement": "available_with_conditions",
        "options": ["education_care_arrangement", "adjusted_timetable"],
        "available_from": (D + timedelta(days=60)).isoformat(),
        "contact": SWV_CONTACT,
    }


def decide(partner, ref, decision, **extra):
    return post(
        partner,
        f"/api/v1/cases/{ref}/decision",
        {"decision": decision, "decided_on": D.isoformat(), **extra},
    )


def test_happy_path(partners, pseudonymiser):
    leerplicht, ggd, swv = partners[ex.LEERPLICHT], partners[ex.GGD], partners[ex.SWV]
    response = open_exemption(leerplicht, HAPPY, [ex.GGD, SWV_BY_REGION])
    assert response.status_code == 201, response.text
    answer = response.json()
    ref = answer["case_ref"]
    assert ph.is_uuid4(ref)
    assert (answer["kind"], answer["status"]) == ("exemption_advice", "requested")
    assert answer["created_at"] and answer["audit"]["seq"]
    assert [{k: v for k, v in p.items() if k != "exchange_id"} for p in answer["participants"]] == [
        {
            "oin": ex.GGD,
            "name": "GGD Groningen",
            "type": "ggd",
            "status": "invited",
            "resolved_from": None,
        },
        {
            "oin": ex.SWV,
            "name": "SWV Groningen Stad",
            "type": "swv",
            "status": "invited",
            "resolved_from": {"type": "swv", "region": "groningen", "education_sector": "po"},
        },
    ]
    sent = {p["oin"]: p["exchange_id"] for p in answer["participants"]}

    leerplicht_org = {"oin": ex.LEERPLICHT, "name": "Leerplicht Groningen", "type": "leerplicht"}
    payload = request_payload()
    to_ggd, to_swv = ggd.drain(), swv.drain()
    refs = {ex.GGD: to_ggd[0]["payload"]["case_ref"], ex.SWV: to_swv[0]["payload"]["case_ref"]}
    assert len({ref, *refs.values()}) == 3 and all(ph.is_uuid4(r) for r in refs.values())
    assert without_volatile(to_ggd) == [
        {  # OPEN-11: the designated physician gets the BSN
            "id": sent[ex.GGD],
            "message_type": "exemption_advice_request",
            "sender": leerplicht_org,
            "subject": {"bsn": HAPPY},
            "payload": {
                "school_year": payload["school_year"],
                "requested_on": payload["requested_on"],
                "education_sector": "po",
                "date_of_birth": payload["date_of_birth"],
                "enrolment": "enrolled",
                "statement_by": "physician",
                "respond_by": payload["respond_by"],
                "contact": LEERPLICHT_CONTACT,
                "case_ref": refs[ex.GGD],
            },
            "purpose": "exemption_advice",
            "legal_basis": {"type": "legal_obligation", "citation": REQUEST_TO_GGD},
        }
    ]
    assert without_volatile(to_swv) == [
        {
            "id": sent[ex.SWV],
            "message_type": "exemption_advice_request",
            "sender": leerplicht_org,
            "subject": {"pseudonym": ph.pseudonym(pseudonymiser, HAPPY, ex.SWV)},
            "payload": {
                "school_year": payload["school_year"],
                "education_sector": "po",
                "birth_year": int(payload["date_of_birth"][:4]),
                "enrolment": "enrolled",
                "school_brin": "12AB",
                "respond_by": payload["respond_by"],
                "contact": LEERPLICHT_CONTACT,
                "case_ref": refs[ex.SWV],
            },
            "purpose": "exemption_advice",
            "legal_basis": {"type": "legal_obligation", "citation": REQUEST_TO_SWV},
        }
    ]
    assert to_ggd[0]["fsc_transaction_id"] != to_swv[0]["fsc_transaction_id"]
    for oin in (ex.SCHOOL, ex.WIJ, ex.LEERPLICHT):
        assert partners[oin].drain() == [], oin

    # each adviser answers by an ordinary exchange, replying to the request it received
    medical = ggd.send(
        "exemption_medical_advice",
        ex.LEERPLICHT,
        medical_advice(sent[ex.GGD]),
        subject={"bsn": HAPPY},
    )
    assert medical.status_code == 202, medical.text
    halfway = get(leerplicht, f"/api/v1/cases/{ref}").json()  # advised once every adviser has
    assert halfway["status"] == "requested"
    assert {p["oin"]: p["status"] for p in halfway["participants"]} == {
        ex.GGD: "answered",
        ex.SWV: "invited",
    }
    education = swv.send(
        "exemption_education_advice",
        ex.LEERPLICHT,
        education_advice(sent[ex.SWV]),
        subject=to_swv[0]["subject"],
    )
    assert education.status_code == 202, education.text
    assert without_volatile(leerplicht.drain()) == [
        {
            "id": medical.json()["id"],
            "message_type": "exemption_medical_advice",
            "sender": {"oin": ex.GGD, "name": "GGD Groningen", "type": "ggd"},
            "subject": {"bsn": HAPPY},
            "payload": {
                "in_reply_to": sent[ex.GGD],
                "advice": "fit_with_adjustments",
                "reassess_after": (D + timedelta(days=180)).isoformat(),
                "contact": GGD_CONTACT,
            },
            "purpose": "exemption_advice",
            "legal_basis": {"type": "legal_obligation", "citation": MEDICAL_ADVICE},
        },
        {
            "id": education.json()["id"],
            "message_type": "exemption_education_advice",
            "sender": {"oin": ex.SWV, "name": "SWV Groningen Stad", "type": "swv"},
            "subject": {"bsn": HAPPY},
            "payload": {
                "in_reply_to": sent[ex.SWV],
                "arrangement": "available_with_conditions",
                "options": ["education_care_arrangement", "adjusted_timetable"],
                "available_from": (D + timedelta(days=60)).isoformat(),
                "contact": SWV_CONTACT,
            },
            "purpose": "exemption_advice",
            "legal_basis": {"type": "legal_obligation", "citation": EDUCATION_ADVICE},
        },
    ]
    for oin in (ex.GGD, ex.SWV, ex.SCHOOL, ex.WIJ):
        assert partners[oin].drain() == [], oin  # neither adviser hears of the other's answer

    view = get(leerplicht, f"/api/v1/cases/{ref}")
    assert view.status_code == 200, view.text
    assert (view.json()["status"], view.json()["kind"]) == ("advised", "exemption_advice")
    assert {p["oin"]: p["status"] for p in view.json()["participants"]} == {
        ex.GGD: "answered",
        ex.SWV: "answered",
    }
    assert "subject" not in view.json()

    decided = decide(leerplicht, ref, "not_exempted")
    assert decided.status_code == 200, decided.text
    assert decided.json() == {
        "case_ref": ref,
        "status": "decided",
        "decision": "not_exempted",
        "decided_on": D.isoformat(),
        "advice": {"medical": "fit_with_adjustments", "education": "available_with_conditions"},
        "audit": ANY,
    }
    again = decide(leerplicht, ref, "exempted_5a")
    assert again.status_code == 409 and again.json()["code"] == "case_closed"

    # an adviser sees its own part: no decision, no other adviser
    answers = {ex.GGD: medical.json()["id"], ex.SWV: education.json()["id"]}
    for oin, other in ((ex.GGD, ex.SWV), (ex.SWV, ex.GGD)):
        seen = get(partners[oin], f"/api/v1/cases/{refs[oin]}")
        assert seen.status_code == 200, seen.text
        assert (seen.json()["kind"], seen.json()["status"]) == ("exemption_advice", "closed")
        text = json.dumps(seen.json())
        assert other not in text and "not_exempted" not in text and "decision" not in text
        assert "subject" not in seen.json() and ref not in text
        assert seen.json()["convener"] == leerplicht_org
        assert sent[oin] in text and answers[oin] in text  # its own request and answer
        assert sent[other] not in text and answers[other] not in text
    for partner in partners.values():
        if partner.type != "operator":
            assert partner.drain() == [], partner.oin  # OPEN-10: nobody is told the decision

    # the indicators: one request this school year, a small cell
    indicators = get(
        partners[ex.OPERATOR],
        "/api/v1/monitoring/indicators",
        school_year=ph.school_year(D - timedelta(days=10)),
    )
    assert indicators.status_code == 200, indicators.text
    assert indicators.json()["pact"]["exemption_requests"]["total"] == "<5"


def test_advice_with_a_diagnosis_is_refused(partners):
    leerplicht, ggd = partners[ex.LEERPLICHT], partners[ex.GGD]
    ref, sent = opened(partners, DIAGNOSIS)
    ggd.drain()
    for field, value in (("diagnosis", "ADHD"), ("reason", "Angststoornis")):
        refused = ggd.send(
            "exemption_medical_advice",
            ex.LEERPLICHT,
            dict(medical_advice(sent[ex.GGD]), **{field: value}),
            subject={"bsn": DIAGNOSIS},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "validation_failed"
        assert list(refused.json()["errors"]) == [f"payload.{field}"]
        assert value not in refused.text
    assert leerplicht.drain() == []  # nothing stored
    view = get(leerplicht, f"/api/v1/cases/{ref}").json()
    assert view["status"] == "requested"
    assert {p["oin"]: p["status"] for p in view["participants"]} == {
        ex.GGD: "invited",
        ex.SWV: "invited",
    }


def test_advisers_do_not_learn_of_each_other(partners, pseudonymiser):
    start = ph.started(partners[ex.OPERATOR])
    ggd, swv = partners[ex.GGD], partners[ex.SWV]
    ref, sent = opened(partners, APART)
    [to_ggd], [to_swv] = ggd.drain(), swv.drain()
    assert (
        ggd.send(
            "exemption_medical_advice",
            ex.LEERPLICHT,
            medical_advice(sent[ex.GGD]),
            subject={"bsn": APART},
        ).status_code
        == 202
    )
    assert (
        swv.send(
            "exemption_education_advice",
            ex.LEERPLICHT,
            education_advice(sent[ex.SWV]),
            subject=to_swv["subject"],
        ).status_code
        == 202
    )
    child = ph.audit_ref(pseudonymiser, APART)
    events = [e for e in ph.audit_events(partners[ex.OPERATOR], start) if e["subject_ref"] == child]
    assert [e for e in events if e["action"] == "case.disclose"] == []
    assert [e for e in events if e["action"] == "case.open"][0]["decision"] == "allowed"
    for partner, item, other in ((ggd, to_ggd, ex.SWV), (swv, to_swv, ex.GGD)):
        own_ref = item["payload"]["case_ref"]
        reads = [
            item,
            get(partner, f"/api/v1/cases/{own_ref}").json(),
            get(partner, "/api/v1/cases").json(),
            ph.audit_events(partner, start),
            partner.drain(),
        ]
        text = json.dumps(reads)
        assert other not in text, partner.oin
        assert ref not in text  # nor leerplicht's reference
    assert ph.problem_without_instance(
        get(ggd, f"/api/v1/cases/{to_swv['payload']['case_ref']}")
    ) == ph.problem_without_instance(get(ggd, f"/api/v1/cases/{uuid.uuid4()}"))


def test_decision_without_answers(partners):
    leerplicht = partners[ex.LEERPLICHT]
    ref, _ = opened(partners, UNANSWERED, [ex.GGD])
    decided = decide(leerplicht, ref, "request_withdrawn")
    assert decided.status_code == 200, decided.text
    assert decided.json() == {
        "case_ref": ref,
        "status": "decided",
        "decision": "request_withdrawn",
        "decided_on": D.isoformat(),
        "advice": {"medical": "none", "education": "none"},
        "audit": ANY,
    }
    view = get(leerplicht, f"/api/v1/cases/{ref}").json()
    assert view["status"] == "decided" and view["closed_at"]  # design 4.1: decided (closed)
    assert view["close_reason"] == "request_withdrawn"


def test_school_cannot_open_an_exemption_case(partners):
    listed = ph.case_refs(partners[ex.SCHOOL])
    refused = open_exemption(partners[ex.SCHOOL], BY_SCHOOL, [ex.GGD])
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "route_not_allowed"
    assert partners[ex.GGD].drain() == []
    assert ph.case_refs(partners[ex.SCHOOL]) == listed
