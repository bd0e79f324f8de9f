"""Correlation ids reach one recipient only (API.md section 13, rule 1).

A school that reuses one ``Fsc-Transaction-Id`` for an absence report to the leerplicht office
(which gets the BSN) and one to the SWV (which gets a pseudonym) would hand both recipients a
shared value to join their records on. The gateway refuses the second send with 409
``transaction_id_reused``; the same id to the same recipient, and an idempotent replay, are no
reuse. A sender's trace context never reaches a recipient, and a ``signal_match`` never carries
the id of the request that caused it. All against a real gunicorn server (two workers), with
real tokens, a real delivery worker and a real push recipient (the leerplicht office).
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import threading
import uuid

import pytest
import requests

from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server

TODAY = ex.today()
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_HEADERS = {
    "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01",
    "tracestate": "school=c2Nob29sLXRyYWNl",
    "baggage": "leerling=vertrouwelijk-4411,school=regenboog",
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("correlation")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    recipient = dh.recipient(f"{server.url}/oauth/jwks")
    partners = dh.register_push_partners(server, instance, recipient.delivery_url)
    yield server, recipient, partners
    recipient.stop()
    stop_server(server.process)


def send(partners, recipient, transaction_id, key=None, extra=None, bsn=ex.BSN):
    headers = {"Fsc-Transaction-Id": transaction_id, **(extra or {})}
    return partners[ex.SCHOOL].send("absence_report", recipient, ex.absence_report(TODAY),
                                    subject={"bsn": bsn}, key=key, headers=headers)


def rows(server, sql, *params):
    path = server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute(sql, params).fetchall()


def messages_with(server, transaction_id):
    return rows(server, "SELECT id, recipient_org_id FROM messages WHERE fsc_transaction_id = ?",
                transaction_id)


def test_an_id_passed_to_the_leerplicht_office_is_refused_for_the_swv(gateway):
    server, _, partners = gateway
    transaction_id = str(uuid.uuid4())
    first = send(partners, ex.LEERPLICHT, transaction_id)
    assert first.status_code == 202, first.text
    second = send(partners, ex.SWV, transaction_id)
    assert second.status_code == 409, second.text
    assert second.headers["Content-Type"] == "application/problem+json"
    assert second.json()["code"] == "transaction_id_reused"
    assert second.json()["status"] == 409
    # nothing stored for the SWV, and its inbox never shows the id
    assert [m[0] for m in messages_with(server, transaction_id)] == [first.json()["id"]]
    items = partners[ex.SWV].inbox(limit=500)["items"]
    assert transaction_id not in json.dumps(items)
    # the refusal is an audit event of the sender, like every other refusal
    [refused] = [e for e in dh.audit_events(server, "exchange.send")
                 if e["fsc_transaction_id"] == transaction_id and e["decision"] == "denied"]
    assert refused["reason"] == "transaction_id_reused"
    assert refused["exchange_id"] is None and refused["sender"] == ex.SCHOOL
    assert ex.BSN not in json.dumps(refused)


def test_the_same_id_to_the_same_recipient_is_allowed(gateway):
    server, _, partners = gateway
    transaction_id = str(uuid.uuid4())
    first = send(partners, ex.SWV, transaction_id)
    second = send(partners, ex.SWV, transaction_id, bsn=ex.OTHER_BSN)
    assert (first.status_code, second.status_code) == (202, 202), second.text
    assert first.json()["id"] != second.json()["id"]
    assert len(messages_with(server, transaction_id)) == 2


def test_an_idempotent_replay_is_not_a_reuse(gateway):
    server, _, partners = gateway
    transaction_id, key = str(uuid.uuid4()), uuid.uuid4().hex
    first = send(partners, ex.LEERPLICHT, transaction_id, key=key)
    assert first.status_code == 202, first.text
    assert send(partners, ex.SWV, transaction_id).status_code == 409
    again = send(partners, ex.LEERPLICHT, transaction_id, key=key)
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    assert len(messages_with(server, transaction_id)) == 1


def test_a_refused_reuse_does_not_use_up_the_idempotency_key(gateway):
    _, _, partners = gateway
    transaction_id, key = str(uuid.uuid4()), uuid.uuid4().hex
    assert send(partners, ex.LEERPLICHT, transaction_id).status_code == 202
    assert send(partners, ex.SWV, transaction_id, key=key).status_code == 409
    fresh = send(partners, ex.SWV, str(uuid.uuid4()), key=key)
    assert fresh.status_code == 202, fresh.text


def test_a_race_over_two_workers_ends_in_one_202_and_one_409(gateway):
    server, _, partners = gateway
    partners[ex.SCHOOL].token()  # fetched once, outside the race
    for _ in range(12):
        transaction_id = str(uuid.uuid4())
        barrier = threading.Barrier(2)
        answers = {}

        def race(recipient, transaction_id=transaction_id, barrier=barrier, answers=answers):
            barrier.wait()
            answers[recipient] = send(partners, recipient, transaction_id)

        threads = [threading.Thread(target=race, args=(r,)) for r in (ex.LEERPLICHT, ex.SWV)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        statuses = sorted(a.status_code for a in answers.values())
        assert statuses == [202, 409], [a.text for a in answers.values()]
        loser = next(a for a in answers.values() if a.status_code == 409)
        assert loser.json()["code"] == "transaction_id_reused"
        winner = next(r for r, a in answers.items() if a.status_code == 202)
        stored = messages_with(server, transaction_id)
        assert len(stored) == 1 and stored[0][0] == answers[winner].json()["id"]


def test_trace_context_is_never_pushed_to_the_recipient(gateway):
    server, recipient, partners = gateway
    transaction_id = str(uuid.uuid4())
    response = send(partners, ex.LEERPLICHT, transaction_id, extra=TRACE_HEADERS)
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    server.cli("worker", "--once")
    raw = recipient.last_request(message_id)
    headers = {name.lower(): value for name, value in raw["headers"].items()}
    # issue 22: the push carries a traceparent of the gateway's own trace, never the
    # sender's; the sender's tracestate and baggage never go on
    assert {"tracestate", "baggage"}.isdisjoint(headers)
    version, pushed_trace, pushed_span, _ = headers["traceparent"].split("-")
    assert version == "00" and pushed_trace != TRACE_ID and pushed_span != "00f067aa0ba902b7"
    pushed = base64.b64decode(raw["body"]).decode() + json.dumps(headers)
    for value in (TRACE_ID, "c2Nob29sLXRyYWNl", "vertrouwelijk-4411"):
        assert value not in pushed
    # the pulled item carries none of it either
    assert TRACE_ID not in json.dumps(partners[ex.LEERPLICHT].inbox(limit=500))


def test_signal_matches_never_carry_the_signallers_transaction_id(gateway):
    _, _, partners = gateway
    child = "836044502"
    ids = {}
    for oin in (ex.SCHOOL, ex.GGD, ex.WIJ):
        ids[oin] = str(uuid.uuid4())
        partner = partners[oin]
        response = requests.post(
            f"{partner.base_url}/api/v1/signals", timeout=10,
            json={"subject": {"bsn": child}, "category": "wellbeing", "contact": ex.CONTACT},
            headers=partner.headers(**{"Fsc-Transaction-Id": ids[oin]}),
        )
        assert response.status_code == 201, response.text
    notices = {oin: [i for i in partners[oin].inbox(limit=500)["items"]
                     if i["message_type"] == "signal_match"] for oin in ids}
    assert {oin: len(found) for oin, found in notices.items()} == {oin: 2 for oin in ids}
    for oin, found in notices.items():
        for item in found:
            others = set(ids.values()) - {ids[oin]}
            assert item["fsc_transaction_id"] not in others
    every = [item["fsc_transaction_id"] for found in notices.values() for item in found]
    assert len(set(every)) == len(every)  # no two organisations share one
