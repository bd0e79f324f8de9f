"""Re-identification (API.md section 7) through the Flask test client, on SQLite and PostgreSQL:
request, approve, refuse, read once, second read refused, expiry with an injected clock, and
every step on record."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.audit.actors import Actor
from gateway.problems import GatewayError
from gateway.reidentification.models import ReidentificationRequestRow
from pseudonymise import Bsn, organisation_domain
from tests import exchange_helpers as ex
from tests.functional.test_audit_api import Gateway, assert_problem

BASE = "/api/v1/reidentifications"


@pytest.fixture
def gw(database_url, keys_dir):
    made = Gateway(database_url, keys_dir)
    made.now = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    made.app.extensions["gateway"].reidentifications.clock = lambda: made.now
    yield made
    made.close()


def own_pseudonym(gw, oin, bsn=ex.BSN) -> str:
    return gw.pseudonymiser.pseudonymise(Bsn(bsn), organisation_domain(oin))


def ask(gw, oin=ex.GGD, bsn=ex.BSN, **changes):
    body = {"pseudonym": own_pseudonym(gw, oin, bsn), "reason": "Dossier onvolledig",
            "legal_basis": "Wet publieke gezondheid art. 5"} | changes
    return gw.post(oin, BASE, body)


def trail(gw):
    return [(e["action"], e["decision"], e["reason"], e["actor"]["org"], e["recipient"],
             e["fields_forwarded"]) for e in gw.events() if e["action"].startswith("reident")]


def test_approve_then_read_once(gw):
    response = ask(gw)
    assert response.status_code == 202, response.json
    assert response.json == {"id": response.json["id"], "status": "pending"}
    request_id = response.json["id"]
    assert gw.get(ex.GGD, f"{BASE}/{request_id}").json["status"] == "pending"
    approved = gw.post(ex.OPERATOR, f"{BASE}/{request_id}/approve")
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert "bsn" not in approved.json  # the approver never sees the BSN
    first = gw.get(ex.GGD, f"{BASE}/{request_id}")
    assert first.status_code == 200
    assert first.json["status"] == "approved" and first.json["bsn"] == ex.BSN
    second = gw.get(ex.GGD, f"{BASE}/{request_id}").json
    assert second["status"] == "consumed" and "bsn" not in second
    with gw.db.session() as session:
        row = session.get(ReidentificationRequestRow, request_id)
        assert row.status == "consumed" and row.consumed_at is not None
        assert row.decided_by_org == ex.OPERATOR and row.pseudonym == own_pseudonym(gw, ex.GGD)
        assert all(ex.BSN not in str(value) for value in vars(row).values())
    assert trail(gw) == [
        ("reidentification.request", "allowed", None, ex.GGD, ex.GGD, []),
        ("reidentification.read", "allowed", None, ex.GGD, ex.GGD, []),
        ("reidentification.approve", "allowed", None, ex.OPERATOR, ex.GGD, []),
        ("reidentification.read", "allowed", None, ex.GGD, ex.GGD, ["bsn"]),
        ("reidentification.read", "allowed", None, ex.GGD, ex.GGD, []),
    ]
    refs = {e["subject_ref"] for e in gw.events() if e["action"].startswith("reident")}
    assert refs == {gw.audit_ref(ex.BSN)}
    assert all(ex.BSN not in str(e) for e in gw.events())


def test_refuse_needs_a_reason_and_the_requester_reads_it(gw):
    request_id = ask(gw).json["id"]
    assert_problem(gw.post(ex.OPERATOR, f"{BASE}/{request_id}/refuse"), 422, "validation_failed")
    assert_problem(gw.post(ex.OPERATOR, f"{BASE}/{request_id}/refuse", {}), 422, "validation_failed")
    refused = gw.post(ex.OPERATOR, f"{BASE}/{request_id}/refuse", {"reason": "Geen grondslag"})
    assert refused.status_code == 200 and refused.json["status"] == "refused"
    read = gw.get(ex.GGD, f"{BASE}/{request_id}").json
    assert read["status"] == "refused" and read["decision_reason"] == "Geen grondslag"
    assert "bsn" not in read
    assert_problem(gw.post(ex.OPERATOR, f"{BASE}/{request_id}/approve"), 409, "not_pending")
    decisions = [t[:3] for t in trail(gw) if t[0] != "reidentification.read"]
    assert decisions == [
        ("reidentification.request", "allowed", None),
        ("reidentification.refuse", "denied", "validation_failed"),
        ("reidentification.refuse", "denied", "validation_failed"),
        ("reidentification.refuse", "allowed", None),
        ("reidentification.approve", "denied", "not_pending"),
    ]


def test_pending_requests_expire_after_seven_days(gw):
    request_id = ask(gw).json["id"]
    gw.now += timedelta(days=7) - timedelta(seconds=1)
    assert gw.get(ex.GGD, f"{BASE}/{request_id}").json["status"] == "pending"
    gw.now += timedelta(seconds=1)
    assert gw.get(ex.GGD, f"{BASE}/{request_id}").json["status"] == "expired"
    assert_problem(gw.post(ex.OPERATOR, f"{BASE}/{request_id}/approve"), 409, "not_pending")
    late = ask(gw).json["id"]
    gw.now += timedelta(days=8)
    assert gw.app.extensions["gateway"].reidentifications.expire() == 1
    with gw.db.session() as session:
        assert session.get(ReidentificationRequestRow, late).status == "expired"


def test_only_the_requester_sees_a_request(gw):
    request_id = ask(gw).json["id"]
    for oin in (ex.SCHOOL, ex.GGD_2, ex.OPERATOR):
        assert_problem(gw.get(oin, f"{BASE}/{request_id}"), 404, "not_found")
    assert_problem(gw.get(ex.GGD, f"{BASE}/{'0' * 36}"), 404, "not_found")
    denied = [t for t in trail(gw) if t[1] == "denied"]
    assert [t[2] for t in denied] == ["not_found"] * 4


def test_an_organisation_never_decides_its_own_request(gw):
    request_id = ask(gw, oin=ex.OPERATOR).json["id"]
    assert_problem(gw.post(ex.OPERATOR, f"{BASE}/{request_id}/approve"), 403, "own_request")
    assert_problem(gw.post(ex.OPERATOR, f"{BASE}/{request_id}/refuse", {"reason": "x"}), 403,
                   "own_request")
    assert gw.get(ex.OPERATOR, f"{BASE}/{request_id}").json["status"] == "pending"


def test_only_the_operator_decides(gw):
    request_id = ask(gw).json["id"]
    assert_problem(gw.post(ex.SCHOOL, f"{BASE}/{request_id}/approve"), 403, "insufficient_scope")
    service = gw.app.extensions["gateway"].reidentifications
    with pytest.raises(GatewayError) as refused:  # e.g. a privacy officer of a school, later
        service.approve(Actor.web_user(ex.SCHOOL, "school", "po@school.example"), request_id)
    assert refused.value.status == 403 and refused.value.code == "not_operator"
    assert [t[:3] for t in trail(gw)][1:] == [
        ("reidentification.approve", "denied", "insufficient_scope"),
        ("reidentification.approve", "denied", "not_operator"),
    ]
    officer = Actor.web_user(ex.OPERATOR, "operator", "privacy@beheer.example")
    assert [p["id"] for p in service.pending(officer)] == [request_id]
    assert service.approve(officer, request_id)["status"] == "approved"
    approve = [e for e in gw.events() if e["action"] == "reidentification.approve"][-1]
    assert approve["actor"] == {"org": ex.OPERATOR, "client_id": None,
                                "user": "privacy@beheer.example"}


def test_unknown_pseudonyms_and_bad_bodies(gw):
    foreign = own_pseudonym(gw, ex.SCHOOL)  # valid, but another organisation's
    response = gw.post(ex.GGD, BASE, {"pseudonym": foreign, "reason": "r", "legal_basis": "b"})
    assert_problem(response, 422, "unknown_pseudonym")
    assert response.json["errors"] == {"pseudonym": ["Not a pseudonym of your organisation."]}
    assert_problem(ask(gw, pseudonym="A" * 35), 422, "unknown_pseudonym")
    assert_problem(gw.post(ex.GGD, BASE, {"pseudonym": "x"}), 422, "validation_failed")
    assert_problem(gw.post(ex.GGD, BASE, "pseudonym=x"), 415, "unsupported_media_type")
    assert [t[2] for t in trail(gw)] == [
        "unknown_pseudonym", "unknown_pseudonym", "validation_failed", "unsupported_media_type"]
    with gw.db.session() as session:
        assert session.scalars(select(ReidentificationRequestRow)).all() == []


def test_concurrent_reads_reveal_the_bsn_once(gw):
    request_id = ask(gw).json["id"]
    gw.post(ex.OPERATOR, f"{BASE}/{request_id}/approve")
    service = gw.app.extensions["gateway"].reidentifications
    requester = Actor(ex.GGD, "ggd", client_id=f"client-{ex.GGD}")
    answers, barrier = [], threading.Barrier(4)

    def read():
        barrier.wait()
        answers.append(service.read(requester, request_id))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a["status"] for a in answers) == ["approved", "consumed", "consumed", "consumed"]
    assert [a.get("bsn") for a in answers if "bsn" in a] == [ex.BSN]
