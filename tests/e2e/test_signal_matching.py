"""Signals against a real gunicorn server, with real tokens and real HTTP.

Two and three organisations signal the same child: every pair is told once, each side by one
``signal_match`` in its inbox naming the other party and its contact, never the category.
Runs its own DEBUG-logging server so that the last test can check the whole log for BSNs.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
import requests

from gateway.keys import KeyStore
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests import exchange_helpers as ex
from tests.e2e.conftest import stop_server
from tests.e2e.partners import register_partners
from tests.e2e.test_consent_registry import start_debug_server

PAIR_BSN = "836044502"
TRIO_BSN = "342852498"
AGAIN_BSN = "995609640"
BSNS = (PAIR_BSN, TRIO_BSN, AGAIN_BSN)
SEEN: list[str] = []
HTTP = requests.Session()
HTTP.hooks["response"].append(lambda response, *args, **kwargs: SEEN.append(response.text))


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("signal-e2e")
    shutil.copytree(keys_dir, instance / "keys")
    live = start_debug_server(instance)
    yield live
    stop_server(live.process)


@pytest.fixture(scope="module")
def partners(server, tmp_path_factory):
    return register_partners(server, tmp_path_factory.mktemp("signal-partners"))


@pytest.fixture(scope="module")
def pseudonymiser(server):
    return DomainPseudonymiser(KeyStore(server.env["GATEWAY_KEYS_DIR"], allow_generate=False).keyring)


def contact(partner) -> dict:
    return {"name": f"Contact {partner.type}", "email": f"{partner.type}@example.nl",
            "phone": "+31 50 000 0000"}


def signal(partner, bsn, category="wellbeing") -> dict:
    body = {"subject": {"bsn": bsn}, "category": category, "contact": contact(partner)}
    response = HTTP.post(f"{partner.base_url}/api/v1/signals", json=body,
                         headers=partner.headers(), timeout=10)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "open"
    return response.json()


def inbox(partner) -> list[dict]:
    response = HTTP.get(f"{partner.base_url}/api/v1/inbox", params={"limit": 500},
                        headers=partner.headers(), timeout=10)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    for item in items:
        ack = HTTP.post(f"{partner.base_url}/api/v1/inbox/{item['id']}/ack",
                        headers=partner.headers(), timeout=10)
        assert ack.status_code == 200, ack.text
    return items


def named(items) -> list[str]:
    return sorted(item["payload"]["other_party"]["oin"] for item in items)


def audit_events(server, action) -> list[dict]:
    """The events as the operator's readers see them: the hashed event plus the child's audit
    pseudonym, kept beside it rather than in it (API.md section 13 rule 1)."""
    path = server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT canonical, subject_ref FROM audit_events WHERE action = ? ORDER BY seq",
            (action,),
        ).fetchall()
    return [dict(json.loads(canonical), subject_ref=ref) for (canonical, ref) in rows]


def test_two_organisations_each_get_one_match_naming_the_other(server, partners, pseudonymiser):
    school, ggd = partners[ex.SCHOOL], partners[ex.GGD]
    inbox(school), inbox(ggd)
    mine = signal(school, PAIR_BSN, "attendance")
    assert inbox(school) == []
    theirs = signal(ggd, PAIR_BSN, "safety")
    [to_school], [to_ggd] = inbox(school), inbox(ggd)
    for item, recipient, own, other in ((to_school, school, mine, ggd),
                                        (to_ggd, ggd, theirs, school)):
        assert item["message_type"] == "signal_match"
        assert item["sender"] == {"oin": ex.OPERATOR, "name": "Gateway Beheer", "type": "operator"}
        assert item["purpose"] == "signal_matching"
        assert item["legal_basis"] == {"type": "legal_obligation",
                                       "citation": "Jeugdwet par. 7.1.1 (verwijsindex)"}
        assert set(item["payload"]) == {"signal_id", "other_party", "matched_at"}
        assert item["payload"]["signal_id"] == own["id"]
        names = {o: n for o, n, _ in ex.ORGANISATIONS}
        assert item["payload"]["other_party"] == {"oin": other.oin, "name": names[other.oin],
                                                  "contact": contact(other)}
        pseudonym = item["subject"]["pseudonym"]
        assert pseudonymiser.reveal(pseudonym, organisation_domain(recipient.oin)) == Bsn(
            PAIR_BSN)
        text = json.dumps(item)
        assert "category" not in text and "attendance" not in text and "safety" not in text
    matches = [e for e in audit_events(server, "signal.match")
               if e["exchange_id"] in {to_school["id"], to_ggd["id"]}]
    assert len(matches) == 2
    # each disclosure names who learned (recipient) of whom (sender): section 13 rule 6
    assert sorted((e["recipient"], e["sender"]) for e in matches) == sorted(
        [(ex.SCHOOL, ex.GGD), (ex.GGD, ex.SCHOOL)])
    for event in matches:
        assert event["actor"] == {"org": ex.OPERATOR, "client_id": None, "user": None}
        assert event["subject_ref"] == pseudonymiser.pseudonymise(Bsn(PAIR_BSN), "audit")


def test_three_organisations_make_each_pair_once(server, partners):
    trio = [partners[o] for o in (ex.LEERPLICHT, ex.WIJ, ex.SWV)]
    for partner in trio:
        inbox(partner)
    for partner in trio:
        signal(partner, TRIO_BSN)
    signal(trio[0], TRIO_BSN)  # a second open signal of the same organisation: no new match
    for partner in trio:
        assert named(inbox(partner)) == sorted(p.oin for p in trio if p is not partner)


def test_closed_signals_stop_matching_and_a_new_one_matches_once_more(server, partners):
    school, ggd, wij = partners[ex.SCHOOL], partners[ex.GGD], partners[ex.WIJ]
    for partner in (school, ggd, wij):
        inbox(partner)
    first = signal(school, AGAIN_BSN)
    signal(ggd, AGAIN_BSN)
    assert named(inbox(school)) == [ex.GGD] and named(inbox(ggd)) == [ex.SCHOOL]
    closed = HTTP.post(f"{server.url}/api/v1/signals/{first['id']}/close",
                       headers=school.headers(), timeout=10)
    assert closed.status_code == 200 and closed.json() == {"id": first["id"], "status": "closed"}
    signal(wij, AGAIN_BSN)
    assert inbox(school) == [] and named(inbox(wij)) == [ex.GGD]
    assert named(inbox(ggd)) == [ex.WIJ]
    foreign = HTTP.post(f"{server.url}/api/v1/signals/{first['id']}/close",
                        headers=ggd.headers(), timeout=10)
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    signal(school, AGAIN_BSN)
    assert named(inbox(school)) == sorted([ex.GGD, ex.WIJ])


def test_no_bsn_in_any_response_log_or_audit_record(server, partners):
    """Runs last: everything this module made went through the same server."""
    assert len(SEEN) > 30
    log = (server.instance / "server.log").read_text()
    assert '"level": "info"' in log
    path = server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        canonical = json.dumps(connection.execute("SELECT canonical FROM audit_events").fetchall())
    for bsn in BSNS:
        assert not any(bsn in text for text in SEEN), bsn
        assert bsn not in log and bsn not in canonical, bsn
