"""Re-identification against a real gunicorn server with real OAuth clients: approve, refuse,
read once, second read refused, expiry, and every step in the audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests

from gateway.keys import KeyStore
from pseudonymise import Bsn, DomainPseudonymiser, generate_valid_bsns, organisation_domain
from tests import exchange_helpers as ex
from tests.e2e.partners import register_partners

CHILD = next(generate_valid_bsns(1, seed=707))
BASE = "/api/v1/reidentifications"


@pytest.fixture(scope="module")
def partners(live_server, tmp_path_factory):
    return register_partners(live_server, tmp_path_factory.mktemp("reid-partners"))


@pytest.fixture(scope="module")
def pseudonymiser(live_server):
    keys = KeyStore(Path(live_server.env["GATEWAY_KEYS_DIR"]), allow_generate=False)
    return DomainPseudonymiser(keys.keyring)


def call(partner, method, path, **kwargs):
    return requests.request(method, f"{partner.base_url}{path}", headers=partner.headers(),
                            timeout=10, **kwargs)


def ask(partner, pseudonymiser, bsn=CHILD):
    pseudonym = pseudonymiser.pseudonymise(Bsn(bsn), organisation_domain(partner.oin))
    response = call(partner, "POST", BASE, json={
        "pseudonym": pseudonym, "reason": "Leerling niet te vinden in de administratie",
        "legal_basis": "Leerplichtwet 1969 art. 18"})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    return response.json()["id"]


def steps(partners, pseudonymiser):
    ref = pseudonymiser.pseudonymise(Bsn(CHILD), "audit")
    report = call(partners[ex.OPERATOR], "POST", "/api/v1/audit/subject-report",
                  json={"subject": {"bsn": CHILD}, "limit": 500})
    return [(e["action"], e["decision"], e["reason"], e["actor"]["org"], e["fields_forwarded"])
            for e in report.json()["items"]
            if e["action"].startswith("reidentification.") and e["subject_ref"] == ref]


def test_approve_read_once_then_refused(partners, pseudonymiser):
    swv, operator = partners[ex.SWV], partners[ex.OPERATOR]
    request_id = ask(swv, pseudonymiser)
    assert call(partners[ex.SCHOOL], "GET", f"{BASE}/{request_id}").status_code == 404
    assert call(swv, "POST", f"{BASE}/{request_id}/approve").status_code == 403  # no scope
    approved = call(operator, "POST", f"{BASE}/{request_id}/approve", json={})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    first = call(swv, "GET", f"{BASE}/{request_id}")
    assert first.json()["status"] == "approved" and first.json()["bsn"] == CHILD
    second = call(swv, "GET", f"{BASE}/{request_id}")
    assert second.status_code == 200
    assert second.json()["status"] == "consumed" and "bsn" not in second.json()
    assert CHILD not in second.text
    again = call(operator, "POST", f"{BASE}/{request_id}/approve")
    assert again.status_code == 409 and again.json()["code"] == "not_pending"
    assert steps(partners, pseudonymiser) == [
        ("reidentification.request", "allowed", None, ex.SWV, []),
        ("reidentification.approve", "allowed", None, ex.OPERATOR, []),
        ("reidentification.read", "allowed", None, ex.SWV, ["bsn"]),
        ("reidentification.read", "allowed", None, ex.SWV, []),
        ("reidentification.approve", "denied", "not_pending", ex.OPERATOR, []),
    ]
    # the refusal for want of scope names no child: that caller has no business with it
    denied = requests.get(f"{operator.base_url}/api/v1/audit/events", headers=operator.headers(),
                          params={"action": "reidentification.approve", "decision": "denied",
                                  "org": ex.SWV}, timeout=10).json()["items"]
    mine = [(e["reason"], e["subject_ref"]) for e in denied if e["actor"]["org"] == ex.SWV]
    assert mine[-1:] == [("insufficient_scope", None)]


def test_refuse_and_expiry(live_server, partners, pseudonymiser):
    ggd, operator = partners[ex.GGD], partners[ex.OPERATOR]
    refused_id = ask(ggd, pseudonymiser)
    missing_reason = call(operator, "POST", f"{BASE}/{refused_id}/refuse", json={})
    assert missing_reason.status_code == 422 and "reason" in missing_reason.json()["errors"]
    refused = call(operator, "POST", f"{BASE}/{refused_id}/refuse",
                   json={"reason": "Geen wettelijke grondslag genoemd"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    read = call(ggd, "GET", f"{BASE}/{refused_id}").json()
    assert read["status"] == "refused" and "bsn" not in read
    assert read["decision_reason"] == "Geen wettelijke grondslag genoemd"

    expiring_id = ask(ggd, pseudonymiser)
    database = live_server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database, timeout=10) as connection:  # eight days pass
        connection.execute(
            "UPDATE reidentification_requests SET created_at = '2000-01-01 00:00:00.000000', "
            "expires_at = '2000-01-08 00:00:00.000000' WHERE id = ?", (expiring_id,))
    assert call(ggd, "GET", f"{BASE}/{expiring_id}").json()["status"] == "expired"
    late = call(operator, "POST", f"{BASE}/{expiring_id}/approve")
    assert late.status_code == 409 and late.json()["code"] == "not_pending"
    assert call(ggd, "GET", f"{BASE}/{expiring_id}").json()["status"] == "expired"


def test_a_foreign_pseudonym_is_unknown(partners, pseudonymiser):
    school = partners[ex.SCHOOL]
    foreign = pseudonymiser.pseudonymise(Bsn(CHILD), organisation_domain(ex.GGD))
    response = call(school, "POST", BASE, json={"pseudonym": foreign, "reason": "r",
                                                 "legal_basis": "b"})
    assert response.status_code == 422 and response.json()["code"] == "unknown_pseudonym"
    assert response.json()["errors"] == {"pseudonym": ["Not a pseudonym of your organisation."]}
