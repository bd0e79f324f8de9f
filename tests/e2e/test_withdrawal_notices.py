"""Withdrawal notices (issue 19, AVG article 19) against a real gunicorn server with real
OAuth tokens.

When a consent is withdrawn, every organisation that received data under it gets one
``consent_withdrawn`` notice in its inbox, with no content and no subject: the child is named
only by the consent id its received items already carry and the ids of those exchanges. An
organisation that received under another consent, one that received by legal obligation, and
one that received nothing get nothing; nor does the organisation that withdrew.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests

from pseudonymise import generate_valid_bsns
from tests import exchange_helpers as ex
from tests.e2e.partners import register_partners

TODAY = ex.today()
CHILD = next(generate_valid_bsns(1, seed=1919))  # only this module's exchanges name this child


@pytest.fixture(scope="module")
def partners(live_server, tmp_path_factory):
    return register_partners(live_server, tmp_path_factory.mktemp("withdrawal-partners"))


@pytest.fixture(autouse=True)
def empty_inboxes(partners):
    for partner in partners.values():
        if partner.type != "operator":
            partner.drain()
    yield


def record_consent(partner, purpose, parties) -> str:
    body = {
        "subject": {"bsn": CHILD},
        "date_of_birth": ex.born(TODAY, 9),
        "purpose": purpose,
        "parties": parties,
        "granted_by": [{"role": "parent"}],
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=180)).isoformat(),
        "evidence": {"method": "written", "reference": "dossier 2026-19"},
    }
    response = requests.post(f"{partner.base_url}/api/v1/consents", json=body,
                             headers=partner.headers(), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def withdraw(partner, consent_id):
    return requests.post(f"{partner.base_url}/api/v1/consents/{consent_id}/withdraw",
                         json={"withdrawn_by": {"role": "parent"}, "reason": "Ouder trekt in."},
                         headers=partner.headers(), timeout=10)


def send(sender, message_type, recipient, payload, subject=None):
    response = sender.send(message_type, recipient, payload, subject=subject or {"bsn": CHILD})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def received(partner, exchange_id) -> dict:
    [item] = [i for i in partner.inbox(limit=500)["items"] if i["id"] == exchange_id]
    return item


def withdrawal_notices(partner) -> list[dict]:
    return [i for i in partner.inbox(limit=500)["items"]
            if i["message_type"] == "consent_withdrawn"]


def test_each_earlier_recipient_under_the_consent_is_told_and_no_one_else(partners):
    school, ggd, ggd_2 = partners[ex.SCHOOL], partners[ex.GGD], partners[ex.GGD_2]
    wij, swv, leerplicht = partners[ex.WIJ], partners[ex.SWV], partners[ex.LEERPLICHT]
    mazl = record_consent(school, "mazl", [ex.SCHOOL, "ggd"])
    support = record_consent(school, "support", ["school", ex.WIJ])

    # under the MAZL consent: two GGDs (a party by type), each received a referral
    first = send(school, "sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY))
    second = send(school, "sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY))
    other_ggd = send(school, "sickness_absence_referral", ex.GGD_2,
                     ex.sickness_absence_referral(TODAY))
    item = received(ggd, first)
    assert item["legal_basis"] == {"type": "consent", "consent_id": mazl}
    assert post_ack(ggd, first) and post_ack(ggd, second)  # acknowledged or not: told alike
    # the GGD replies to the school under the same consent: the school received under it too
    advice = dict(ex.jgz_advice(TODAY), in_reply_to=first)
    send(ggd, "jgz_advice", ex.SCHOOL, advice, subject=item["subject"])
    # under another consent, and by legal obligation: not told
    request = send(school, "support_request", ex.WIJ, ex.support_request(TODAY))
    assert received(wij, request)["legal_basis"]["consent_id"] == support
    send(school, "absence_report", ex.SWV, ex.absence_report(TODAY))
    for partner in (school, wij, swv):
        partner.drain()

    answer = withdraw(school, mazl)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "withdrawn"

    [to_ggd] = withdrawal_notices(ggd)
    assert to_ggd["payload"]["consent_id"] == mazl
    assert sorted(to_ggd["payload"]["exchange_ids"]) == sorted([first, second])
    assert to_ggd["subject"] is None and to_ggd["sender"]["type"] == "operator"
    assert CHILD not in json.dumps(to_ggd)
    [to_ggd_2] = withdrawal_notices(ggd_2)
    assert to_ggd_2["payload"]["exchange_ids"] == [other_ggd]  # only its own exchanges
    assert first not in json.dumps(to_ggd_2)
    assert to_ggd_2["fsc_transaction_id"] != to_ggd["fsc_transaction_id"]
    for bystander in (wij, swv, leerplicht, school):  # the school withdrew it itself
        assert withdrawal_notices(bystander) == []

    # a repeated withdrawal tells no one twice
    withdraw(school, mazl)
    assert len(withdrawal_notices(ggd)) == 1 and len(withdrawal_notices(ggd_2)) == 1
    # the other consent still carries its exchanges
    assert send(school, "support_request", ex.WIJ, ex.support_request(TODAY))
    assert withdrawal_notices(wij) == []


def test_a_withdrawal_notice_is_acknowledged_like_any_item(partners):
    school, ggd = partners[ex.SCHOOL], partners[ex.GGD]
    consent = record_consent(school, "mazl", [ex.SCHOOL, ex.GGD])
    send(school, "sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY))
    assert withdraw(school, consent).status_code == 200
    notices = [n for n in withdrawal_notices(ggd) if n["payload"]["consent_id"] == consent]
    assert len(notices) == 1
    assert post_ack(ggd, notices[0]["id"])
    assert [n for n in withdrawal_notices(ggd) if n["payload"]["consent_id"] == consent] == []


def post_ack(partner, item_id) -> bool:
    response = requests.post(f"{partner.base_url}/api/v1/inbox/{item_id}/ack",
                             headers=partner.headers(), timeout=10)
    return response.status_code == 200


def test_the_withdrawer_does_not_learn_who_received_under_the_consent(partners):
    """API.md section 13 rule 1: the notices go to the recipients; the organisation that
    withdraws (here the WIJ, a party by OIN that sent nothing) learns from no answer, not its
    inbox nor its audit view, which organisation received data about the child."""
    school, ggd, wij = partners[ex.SCHOOL], partners[ex.GGD], partners[ex.WIJ]
    consent = record_consent(school, "mazl", [ex.SCHOOL, "ggd", ex.WIJ])
    sent = send(school, "sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY))
    before = audit_seqs(wij)
    answer = withdraw(wij, consent)
    assert answer.status_code == 200, answer.text
    assert ex.GGD not in answer.text and sent not in answer.text
    assert [n["payload"]["consent_id"] for n in withdrawal_notices(ggd)] == [consent]
    assert withdrawal_notices(wij) == []
    new_events = [e for e in audit_events(wij)
                  if e["seq"] not in before and not e["action"].startswith("audit.")]
    assert [e["action"] for e in new_events] == ["consent.withdraw"]
    assert ex.GGD not in json.dumps(new_events) and sent not in json.dumps(new_events)


def audit_events(partner) -> list[dict]:
    response = requests.get(f"{partner.base_url}/api/v1/audit/events", params={"limit": 500},
                            headers=partner.headers(), timeout=10)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    while response.json()["next_cursor"]:
        response = requests.get(f"{partner.base_url}/api/v1/audit/events",
                                params={"limit": 500, "cursor": response.json()["next_cursor"]},
                                headers=partner.headers(), timeout=10)
        items += response.json()["items"]
    return items


def audit_seqs(partner) -> set[int]:
    return {e["seq"] for e in audit_events(partner)}
