"""The exchange API against a real gunicorn server with real OAuth tokens.

Every message type on its default route, checked field by field in the recipient's inbox,
for both identity modes; the pseudonym properties; and every refusal with its code, nothing
stored or delivered, and an audit record without the BSN.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import timedelta

import pytest
import requests

from gateway.keys import KeyStore
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests import exchange_helpers as ex
from tests.e2e.partners import register_partners

TODAY = ex.today()


@pytest.fixture(scope="module")
def partners(live_server, tmp_path_factory):
    return register_partners(live_server, tmp_path_factory.mktemp("partners"))


@pytest.fixture(autouse=True)
def empty_inboxes(partners):
    for partner in partners.values():
        if partner.type != "operator":
            partner.drain()
    yield


@pytest.fixture(scope="module")
def pseudonymiser(live_server):
    return DomainPseudonymiser(KeyStore(live_server.env["GATEWAY_KEYS_DIR"], allow_generate=False).keyring)


def audit_rows(server, since_seq=0):
    path = server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT seq, canonical FROM audit_events WHERE seq > ? ORDER BY seq", (since_seq,)
        ).fetchall()
    return [json.loads(canonical) for _, canonical in rows]


def last_seq(server):
    rows = audit_rows(server)
    return rows[-1]["seq"] if rows else 0


def record_consent(partner, purpose, parties, bsn=ex.BSN, years=9):
    body = {
        "subject": {"bsn": bsn},
        "date_of_birth": ex.born(TODAY, years),
        "purpose": purpose,
        "parties": parties,
        "granted_by": [{"role": "parent"}] if years < 12 else [{"role": "parent"}, {"role": "youth"}],
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=180)).isoformat(),
        "evidence": {"method": "written", "reference": "dossier 2026-17"},
    }
    response = requests.post(f"{partner.base_url}/api/v1/consents", json=body,
                             headers=partner.headers(), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


LEGAL_ROUTES = [
    ("absence_report", ex.SCHOOL, ex.LEERPLICHT, ex.absence_report, "bsn",
     ["absence_type", "start_date", "unauthorised_hours_4_weeks", "reason_category",
      "education_sector", "school_brin", "date_of_birth", "grade", "contact", "remarks"],
     {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"}, "leerplicht_enforcement"),
    ("absence_report", ex.SCHOOL, ex.SWV, ex.absence_report, "pseudonym",
     ["absence_type", "start_date", "unauthorised_hours_4_weeks", "reason_category",
      "education_sector", "school_brin", "birth_year"],
     {"type": "legal_obligation", "citation": "Wet passend onderwijs (zorgplicht)"}, "passend_onderwijs"),
    ("homebound_report", ex.LEERPLICHT, ex.SWV, ex.homebound_report, "pseudonym",
     ["category", "since_date", "education_sector", "birth_year", "perspective", "placed_date"],
     {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 25"}, "homebound_monitoring"),
]


@pytest.mark.parametrize("route", LEGAL_ROUTES, ids=lambda r: f"{r[0]}->{r[2][-9:]}" if isinstance(r, tuple) else None)
def test_legal_obligation_routes_field_by_field(partners, pseudonymiser, route):
    message_type, sender, recipient, factory, identity, fields, legal_basis, purpose = route
    payload = factory(TODAY)
    transaction = str(uuid.uuid4())
    response = partners[sender].send(message_type, recipient, payload,
                                     headers={"Fsc-Transaction-Id": transaction})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "accepted" and accepted["recipient"] == recipient
    assert response.headers["Fsc-Transaction-Id"] == transaction
    [item] = partners[recipient].inbox()["items"]
    assert item["id"] == accepted["id"]
    assert sorted(item["payload"]) == sorted(fields)
    for name in fields:
        expected = int(payload["date_of_birth"][:4]) if name == "birth_year" else payload[name]
        assert item["payload"][name] == expected, name
    assert item["legal_basis"] == legal_basis
    assert item["purpose"] == purpose
    assert item["sender"] == {"oin": sender, "name": dict((o, n) for o, n, _ in ex.ORGANISATIONS)[sender],
                              "type": partners[sender].type}
    assert item["fsc_transaction_id"] == transaction
    if identity == "bsn":
        assert item["subject"] == {"bsn": ex.BSN}
    else:
        assert set(item["subject"]) == {"pseudonym"}
        assert ex.BSN not in item["subject"]["pseudonym"]
        assert pseudonymiser.reveal(item["subject"]["pseudonym"], organisation_domain(recipient)) == Bsn(ex.BSN)
    status = requests.get(f"{partners[sender].base_url}/api/v1/exchanges/{accepted['id']}",
                          headers=partners[sender].headers(), timeout=10).json()
    assert status["status"] == "delivered" and status["delivered_at"]
    assert "payload" not in status and "subject" not in status


def test_consent_routes_deliver_with_consent_and_reply_by_pseudonym(partners, pseudonymiser):
    school, ggd, wij = partners[ex.SCHOOL], partners[ex.GGD], partners[ex.WIJ]
    record_consent(school, "mazl", [ex.SCHOOL, "ggd"])
    record_consent(school, "support", ["school", ex.WIJ])
    referral = school.send("sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY))
    assert referral.status_code == 202, referral.text
    [received] = ggd.inbox()["items"]
    assert sorted(received["payload"]) == sorted(
        ["sick_days_12_weeks", "sick_reports_12_weeks", "education_sector", "birth_year", "concern", "contact"])
    assert received["legal_basis"]["type"] == "consent" and received["legal_basis"]["consent_id"]
    # the GGD knows the child only by its own pseudonym and replies with it
    advice = dict(ex.jgz_advice(TODAY), in_reply_to=referral.json()["id"])
    reply = ggd.send("jgz_advice", ex.SCHOOL, advice, subject=received["subject"])
    assert reply.status_code == 202, reply.text
    [answer] = school.drain()
    expected = pseudonymiser.pseudonymise(Bsn(ex.BSN), organisation_domain(ex.SCHOOL))
    assert answer["subject"] == {"pseudonym": expected}
    assert answer["payload"] == advice
    request = school.send("support_request", ex.WIJ, ex.support_request(TODAY))
    assert request.status_code == 202, request.text
    [support] = wij.inbox()["items"]
    assert sorted(support["payload"]) == sorted(["concern_categories", "urgency", "education_sector", "birth_year", "contact"])
    feedback = wij.send("support_feedback", ex.SCHOOL, ex.support_feedback(TODAY), subject=support["subject"])
    assert feedback.status_code == 202, feedback.text
    [back] = school.drain()
    assert back["subject"] == {"pseudonym": expected}
    assert back["payload"] == ex.support_feedback(TODAY)


def test_pseudonyms_stable_per_recipient_and_different_across_recipients(partners):
    school = partners[ex.SCHOOL]
    for recipient in (ex.SWV, ex.SWV):
        assert school.send("absence_report", recipient, ex.absence_report(TODAY)).status_code == 202
    first, second = (i["subject"]["pseudonym"] for i in partners[ex.SWV].inbox()["items"])
    assert first == second
    partners[ex.LEERPLICHT].send("homebound_report", ex.SWV, ex.homebound_report(TODAY))
    items = partners[ex.SWV].inbox()["items"]
    assert items[-1]["subject"]["pseudonym"] == first
    school_pseudonym_seen_by_ggd = None
    record_consent(school, "mazl", [ex.SCHOOL, "ggd"])
    school.send("sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY))
    [ggd_item] = partners[ex.GGD].inbox()["items"]
    school_pseudonym_seen_by_ggd = ggd_item["subject"]["pseudonym"]
    assert school_pseudonym_seen_by_ggd != first


def assert_refused(server, partners, response, status, code, recipients=(), before_seq=0, subject_ref=True):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    if status == 422:
        assert body["errors"]
    for recipient in recipients:
        assert partners[recipient].inbox()["items"] == [], "nothing may be delivered"
    events = [e for e in audit_rows(server, before_seq) if e["action"] == "exchange.send"]
    assert events and events[-1]["decision"] == "denied" and events[-1]["reason"] == code
    for event in audit_rows(server, before_seq):
        assert ex.BSN not in json.dumps(event)
    return body, events[-1]


def test_refusals_over_http(live_server, partners):
    school = partners[ex.SCHOOL]
    seq = last_seq(live_server)
    body, event = assert_refused(live_server, partners, school.send("absence_report", "00000009999999999999",
                                 ex.absence_report(TODAY)), 404, "unknown_recipient", before_seq=seq)
    assert event["subject_commitment"]  # a syntactically valid subject was named
    seq = last_seq(live_server)
    assert_refused(live_server, partners, school.send("absence_report", ex.GGD, ex.absence_report(TODAY)),
                   403, "route_not_allowed", [ex.GGD], seq)
    seq = last_seq(live_server)
    assert_refused(live_server, partners, school.send("signal_match", ex.WIJ, {}), 403, "route_not_allowed", [ex.WIJ], seq)
    seq = last_seq(live_server)
    body, _ = assert_refused(live_server, partners, school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY),
                             subject={"bsn": "111222334"}), 422, "validation_failed", [ex.LEERPLICHT], seq)
    assert "subject.bsn" in body["errors"] and "111222334" not in json.dumps(body)
    payload = dict(ex.absence_report(TODAY), diagnosis="adhd", education_sector="hbo")
    del payload["contact"]
    seq = last_seq(live_server)
    body, _ = assert_refused(live_server, partners, school.send("absence_report", ex.LEERPLICHT, payload), 422,
                             "validation_failed", [ex.LEERPLICHT], seq)
    assert {"payload.diagnosis", "payload.education_sector", "payload.contact"} <= set(body["errors"])
    seq = last_seq(live_server)
    assert_refused(live_server, partners, school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY),
                   subject={"pseudonym": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}), 422, "unknown_pseudonym",
                   [ex.LEERPLICHT], seq)
    seq = last_seq(live_server)
    assert_refused(live_server, partners, school.send("sickness_absence_referral", ex.GGD,
                   ex.sickness_absence_referral(TODAY), subject={"bsn": ex.OTHER_BSN}), 403,
                   "consent_missing", [ex.GGD], seq)


def test_pseudonym_of_another_organisation_is_refused(live_server, partners):
    partners[ex.SCHOOL].send("absence_report", ex.SWV, ex.absence_report(TODAY))
    [item] = partners[ex.SWV].inbox()["items"]
    seq = last_seq(live_server)
    response = partners[ex.SCHOOL].send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY),
                                        subject=item["subject"])
    assert_refused(live_server, partners, response, 422, "unknown_pseudonym", [ex.LEERPLICHT], seq)


def test_recipient_suspended(live_server, partners):
    live_server.cli("org", "suspend", ex.WIJ)
    try:
        seq = last_seq(live_server)
        response = partners[ex.SCHOOL].send("support_request", ex.WIJ, ex.support_request(TODAY))
        assert_refused(live_server, partners, response, 403, "recipient_suspended", before_seq=seq)
    finally:
        live_server.cli("org", "activate", ex.WIJ)
    assert partners[ex.WIJ].inbox()["items"] == []


def raw_send(partner, data, content_type="application/json", key="raw-1", extra=None):
    headers = partner.headers(**{"Idempotency-Key": key, "Content-Type": content_type}, **(extra or {}))
    return requests.post(f"{partner.base_url}/api/v1/exchanges", data=data, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b'{"message_type": "absence_report", "message_type": "absence_report"}', "application/json", 400, "invalid_json"),
        (b'{"a": NaN}', "application/json", 400, "invalid_json"),
        (b"[" * 50 + b"]" * 50, "application/json", 400, "invalid_json"),
        (b"message_type=absence_report", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"pad": "' + b"x" * (300 * 1024) + b'"}', "application/json", 413, "payload_too_large"),
    ],
    ids=["duplicate-keys", "nan", "too-deep", "form", "oversized"],
)
def test_body_refusals_are_audited_and_store_nothing(live_server, partners, data, content_type, status, code):
    seq = last_seq(live_server)
    response = raw_send(partners[ex.SCHOOL], data, content_type)
    assert_refused(live_server, partners, response, status, code, [ex.LEERPLICHT], seq)


def test_missing_token_scope_and_transaction_id(live_server, partners):
    url = f"{live_server.url}/api/v1/exchanges"
    response = requests.post(url, json={}, timeout=10)
    assert response.status_code == 401 and response.json()["code"] == "missing_token"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    school = partners[ex.SCHOOL]
    seq = last_seq(live_server)
    response = requests.post(url, json={}, headers=school.headers("exchange:receive", **{"Idempotency-Key": "s"}), timeout=10)
    assert_refused(live_server, partners, response, 403, "insufficient_scope", before_seq=seq)
    seq = last_seq(live_server)
    response = raw_send(school, b"{}", extra={"Fsc-Transaction-Id": "123"})
    assert_refused(live_server, partners, response, 400, "invalid_parameter", before_seq=seq)


def test_idempotency_over_http(partners):
    school = partners[ex.SCHOOL]
    key = uuid.uuid4().hex
    first = school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key=key)
    again = school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key=key)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    other = school.send("absence_report", ex.SWV, ex.absence_report(TODAY), key=key)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert len(partners[ex.LEERPLICHT].inbox()["items"]) == 1
    assert partners[ex.SWV].inbox()["items"] == []
    missing = requests.post(f"{school.base_url}/api/v1/exchanges", json={}, headers=school.headers(), timeout=10)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_missing"


def test_ack_erases_and_foreign_ids_are_not_found(partners):
    school, leerplicht, swv = partners[ex.SCHOOL], partners[ex.LEERPLICHT], partners[ex.SWV]
    accepted = school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY)).json()
    foreign = requests.post(f"{swv.base_url}/api/v1/inbox/{accepted['id']}/ack", headers=swv.headers(), timeout=10)
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    peek = requests.get(f"{swv.base_url}/api/v1/exchanges/{accepted['id']}", headers=swv.headers(), timeout=10)
    assert peek.status_code == 404
    missing = requests.get(f"{swv.base_url}/api/v1/exchanges/{uuid.uuid4()}", headers=swv.headers(), timeout=10)
    assert missing.json() == {**missing.json(), "code": "not_found"} and missing.status_code == 404
    url = f"{leerplicht.base_url}/api/v1/inbox/{accepted['id']}/ack"
    first = requests.post(url, headers=leerplicht.headers(), timeout=10)
    second = requests.post(url, json={}, headers=leerplicht.headers(), timeout=10)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and first.json()["status"] == "acknowledged"
    assert leerplicht.inbox()["items"] == []
    status = requests.get(f"{school.base_url}/api/v1/exchanges/{accepted['id']}", headers=school.headers(), timeout=10).json()
    assert status["status"] == "acknowledged" and status["acknowledged_at"]


def test_inbox_limit_and_cursor_validation(partners):
    leerplicht = partners[ex.LEERPLICHT]
    for bad in ("0", "501", "abc", "1.5"):
        response = requests.get(f"{leerplicht.base_url}/api/v1/inbox", params={"limit": bad}, headers=leerplicht.headers(), timeout=10)
        assert response.status_code == 400 and response.json()["code"] == "invalid_parameter"
    response = requests.get(f"{leerplicht.base_url}/api/v1/inbox", params={"cursor": "%%%"}, headers=leerplicht.headers(), timeout=10)
    assert response.status_code == 400 and response.json()["code"] == "invalid_parameter"
