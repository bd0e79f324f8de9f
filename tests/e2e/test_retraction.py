"""Retraction and correction of exchanges (issue 19) against a real gunicorn server with real
OAuth tokens.

Before acknowledgement the message leaves the recipient's inbox and its payload is erased;
after acknowledgement it stays erased; either way the recipient gets a ``retraction`` notice
naming only the exchange id it received, and confirms. The audit trail (read through the
audit API with the operator's token) shows the retraction and the confirmation on the
exchange; a correction is linked on the correcting exchange. Only the sender may retract:
anyone else gets the same 404 as for an id that does not exist.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from pseudonymise import generate_valid_bsns
from tests import exchange_helpers as ex
from tests.e2e.partners import register_partners

TODAY = ex.today()


@pytest.fixture(scope="module")
def partners(live_server, tmp_path_factory):
    return register_partners(live_server, tmp_path_factory.mktemp("retraction-partners"))


@pytest.fixture(autouse=True)
def empty_inboxes(partners):
    for partner in partners.values():
        if partner.type != "operator":
            partner.drain()
    yield


def post(partner, path, body=None, scope=None):
    return requests.post(f"{partner.base_url}{path}", json=body, headers=partner.headers(scope),
                         timeout=10)


def get(partner, path, scope=None, **params):
    return requests.get(f"{partner.base_url}{path}", headers=partner.headers(scope),
                        params=params, timeout=10)


def send_absence_report(partners, recipient=ex.LEERPLICHT, bsn=ex.BSN) -> str:
    response = partners[ex.SCHOOL].send("absence_report", recipient, ex.absence_report(TODAY),
                                        subject={"bsn": bsn})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def events_of(operator, exchange_id: str, since: datetime) -> list[dict]:
    """The audit events of one exchange, oldest first, read with the operator's token."""
    found, cursor = [], None
    while True:
        params = {"from": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "limit": "500"}
        if cursor:
            params["cursor"] = cursor
        page = get(operator, "/api/v1/audit/events", **params)
        assert page.status_code == 200, page.text
        found += [e for e in page.json()["items"] if e["exchange_id"] == exchange_id]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return sorted(found, key=lambda e: e["seq"])


def notices_about(partner, exchange_id: str) -> list[dict]:
    return [item for item in partner.inbox(limit=500)["items"]
            if item["message_type"] == "retraction"
            and item["payload"]["exchange_id"] == exchange_id]


def started() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=5)


def test_a_retraction_before_acknowledgement_erases_the_message_and_leaves_a_notice(partners):
    since = started()
    school, leerplicht = partners[ex.SCHOOL], partners[ex.LEERPLICHT]
    exchange_id = send_absence_report(partners)

    answer = post(school, f"/api/v1/exchanges/{exchange_id}/retract",
                  {"reason": "wrong_child", "remarks": "Verkeerde leerling gekozen in het SIS."})
    assert answer.status_code == 201, answer.text
    retraction = answer.json()
    assert retraction["status"] == "retracted" and retraction["reason"] == "wrong_child"
    assert retraction["payload_erased"] is True and retraction["recipient_status"] == "accepted"
    assert "remarks" not in retraction  # for the operator's privacy officer only

    items = leerplicht.inbox(limit=500)["items"]
    assert exchange_id not in {item["id"] for item in items}  # the message left the inbox
    [notice] = [i for i in items if i["message_type"] == "retraction"]
    assert notice["payload"]["exchange_id"] == exchange_id
    assert notice["payload"]["payload_erased"] is True
    assert notice["payload"]["requested"] == "erase_and_confirm"
    assert notice["subject"] is None  # the child named only by the exchange id it holds
    assert ex.BSN not in json.dumps(notice)
    assert notice["sender"]["type"] == "operator"

    status = get(leerplicht, f"/api/v1/exchanges/{exchange_id}")
    assert status.status_code == 200 and status.json()["status"] == "retracted"
    refused = post(leerplicht, f"/api/v1/inbox/{exchange_id}/ack")
    assert refused.status_code == 409 and refused.json()["code"] == "exchange_retracted"

    confirmed = post(leerplicht, f"/api/v1/exchanges/{exchange_id}/retraction/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["confirmed_at"]
    again = post(leerplicht, f"/api/v1/exchanges/{exchange_id}/retraction/confirm")
    assert again.json()["confirmed_at"] == confirmed.json()["confirmed_at"]
    seen = get(school, f"/api/v1/exchanges/{exchange_id}/retraction").json()
    assert seen["confirmed_at"] == confirmed.json()["confirmed_at"]

    ack = post(leerplicht, f"/api/v1/inbox/{notice['id']}/ack")  # notices are acknowledged alike
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert notices_about(leerplicht, exchange_id) == []

    actions = [e["action"] for e in events_of(partners[ex.OPERATOR], exchange_id, since)]
    assert actions == ["exchange.send", "exchange.retract", "exchange.retraction_confirm"]
    [retract] = [e for e in events_of(partners[ex.OPERATOR], exchange_id, since)
                 if e["action"] == "exchange.retract"]
    assert retract["reason"] == "wrong_child" and retract["actor"]["org"] == ex.SCHOOL
    assert retract["seq"] == retraction["audit"]["seq"]


def test_a_retraction_after_acknowledgement_still_notifies_and_records_the_confirmation(partners):
    since = started()
    school, swv = partners[ex.SCHOOL], partners[ex.SWV]
    exchange_id = send_absence_report(partners, recipient=ex.SWV)
    [received] = [i for i in swv.inbox()["items"] if i["id"] == exchange_id]
    assert post(swv, f"/api/v1/inbox/{exchange_id}/ack").status_code == 200

    answer = post(school, f"/api/v1/exchanges/{exchange_id}/retract", {"reason": "incorrect_content"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["recipient_status"] == "acknowledged"
    assert answer.json()["payload_erased"] is False  # the recipient has it: the notice asks

    [notice] = notices_about(swv, exchange_id)
    assert notice["payload"]["payload_erased"] is False
    assert notice["subject"] is None
    assert received["subject"]["pseudonym"] not in json.dumps(notice)  # nothing new, not even that

    assert post(swv, f"/api/v1/exchanges/{exchange_id}/retraction/confirm").status_code == 200
    actions = [e["action"] for e in events_of(partners[ex.OPERATOR], exchange_id, since)]
    assert actions == ["exchange.send", "exchange.deliver", "exchange.ack", "exchange.retract",
                       "exchange.retraction_confirm"]
    # the sender reads its own trail through its own audit view as well
    own = [e["action"] for e in events_of(school, exchange_id, since)]
    assert "exchange.retract" in own and "exchange.retraction_confirm" in own


def test_retracting_twice_answers_the_same_retraction_and_notifies_once(partners):
    school, leerplicht = partners[ex.SCHOOL], partners[ex.LEERPLICHT]
    exchange_id = send_absence_report(partners)
    first = post(school, f"/api/v1/exchanges/{exchange_id}/retract", {"reason": "other"})
    second = post(school, f"/api/v1/exchanges/{exchange_id}/retract", {"reason": "other"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert len(notices_about(leerplicht, exchange_id)) == 1


def test_a_correction_is_linked_in_the_audit(partners):
    since = started()
    school = partners[ex.SCHOOL]
    wrong = send_absence_report(partners, bsn=ex.OTHER_BSN)
    right = send_absence_report(partners)
    answer = post(school, f"/api/v1/exchanges/{wrong}/retract",
                  {"reason": "wrong_child", "corrected_by": right})
    assert answer.status_code == 201, answer.text
    assert answer.json()["corrected_by"] == right

    [link] = [e for e in events_of(partners[ex.OPERATOR], right, since)
              if e["action"] == "exchange.correct"]
    assert link["reason"] == f"corrects:{wrong}"
    assert link["actor"]["org"] == ex.SCHOOL and link["decision"] == "allowed"

    # the correction must be the sender's own exchange
    other = send_absence_report(partners)
    refused = post(school, f"/api/v1/exchanges/{other}/retract",
                   {"reason": "wrong_child", "corrected_by": str(uuid.uuid4())})
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_reference"
    assert "corrected_by" in refused.json()["errors"]


def test_only_the_sender_may_retract_anyone_else_gets_not_found(partners):
    exchange_id = send_absence_report(partners)
    unknown = post(partners[ex.SCHOOL], f"/api/v1/exchanges/{uuid.uuid4()}/retract",
                   {"reason": "wrong_child"})
    assert unknown.status_code == 404
    for outsider in (ex.LEERPLICHT, ex.SWV):  # the recipient, and a third organisation
        answer = post(partners[outsider], f"/api/v1/exchanges/{exchange_id}/retract",
                      {"reason": "wrong_child"})
        assert answer.status_code == 404
        assert answer.json()["code"] == unknown.json()["code"] == "not_found"
        assert answer.json()["detail"] == unknown.json()["detail"]
    # nothing happened: the recipient still has the message and no notice
    items = partners[ex.LEERPLICHT].inbox(limit=500)["items"]
    assert exchange_id in {i["id"] for i in items}
    assert notices_about(partners[ex.LEERPLICHT], exchange_id) == []
    # the recipient cannot confirm a retraction that does not exist
    confirm = post(partners[ex.LEERPLICHT], f"/api/v1/exchanges/{exchange_id}/retraction/confirm")
    assert confirm.status_code == 404


def test_retracting_needs_the_senders_scope_and_a_reason(partners):
    school = partners[ex.SCHOOL]
    exchange_id = send_absence_report(partners)
    no_scope = post(school, f"/api/v1/exchanges/{exchange_id}/retract", {"reason": "other"},
                    scope="exchange:receive")
    assert no_scope.status_code == 403 and no_scope.json()["code"] == "insufficient_scope"
    no_reason = post(school, f"/api/v1/exchanges/{exchange_id}/retract", {})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]
    free_text = post(school, f"/api/v1/exchanges/{exchange_id}/retract", {"reason": "oops"})
    assert free_text.status_code == 422
    assert get(school, f"/api/v1/exchanges/{exchange_id}").json()["status"] == "accepted"


def test_a_retracted_exchange_and_a_notice_cannot_be_replied_to(partners):
    school, ggd = partners[ex.SCHOOL], partners[ex.GGD]
    child = next(generate_valid_bsns(1, seed=1917))
    consent = {
        "subject": {"bsn": child}, "date_of_birth": ex.born(TODAY, 9), "purpose": "mazl",
        "parties": [ex.SCHOOL, ex.GGD], "granted_by": [{"role": "parent"}],
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=30)).isoformat(),
        "evidence": {"method": "written", "reference": "dossier 19"},
    }
    assert post(school, "/api/v1/consents", consent).status_code == 201
    referral = school.send("sickness_absence_referral", ex.GGD,
                           ex.sickness_absence_referral(TODAY), subject={"bsn": child})
    assert referral.status_code == 202, referral.text
    referral_id = referral.json()["id"]
    [item] = [i for i in ggd.inbox()["items"] if i["id"] == referral_id]
    advice = dict(ex.jgz_advice(TODAY), in_reply_to=referral_id)
    assert post(school, f"/api/v1/exchanges/{referral_id}/retract",
                {"reason": "wrong_child"}).status_code == 201
    reply = ggd.send("jgz_advice", ex.SCHOOL, advice, subject=item["subject"])
    assert reply.status_code == 422 and reply.json()["code"] == "unknown_reference"
    [notice] = notices_about(ggd, referral_id)
    reply = ggd.send("jgz_advice", ex.SCHOOL, dict(advice, in_reply_to=notice["id"]),
                     subject=item["subject"])
    assert reply.status_code == 422 and reply.json()["code"] == "unknown_reference"
    # nobody else reads the retraction either
    assert get(partners[ex.SWV], f"/api/v1/exchanges/{referral_id}/retraction").status_code == 404
    assert get(ggd, f"/api/v1/exchanges/{referral_id}/retraction").json()["reason"] == "wrong_child"
