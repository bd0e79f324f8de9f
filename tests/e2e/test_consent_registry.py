"""The consent registry against a real gunicorn server, with real tokens and real HTTP.

This module runs its own server with ``GATEWAY_LOG_LEVEL=DEBUG``, so the final test's "no BSN
in any log" covers everything the gateway logs, not only warnings. Every response this
module receives is kept for that test as well.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from gateway.clock import local_date
from tests import exchange_helpers as ex
from tests.e2e.conftest import REPO, LiveServer, free_port, stop_server
from tests.e2e.partners import register_partners

TODAY = local_date(datetime.now(UTC))  # the contract's today: Europe/Amsterdam
YOUNG_BSN = "836044502"  # a child of the age-band and search tests
LATE_BSN = "342852498"  # a child whose consent is withdrawn and whose paper consent ended
TYPE_BSN = "995609640"  # a child whose consents name organisation types
BSNS = (ex.BSN, ex.OTHER_BSN, YOUNG_BSN, LATE_BSN, TYPE_BSN)
SEEN: list[str] = []
HTTP = requests.Session()
HTTP.hooks["response"].append(lambda response, *args, **kwargs: SEEN.append(response.text))


def start_debug_server(instance) -> LiveServer:
    """``gateway run`` (two workers) logging at DEBUG into ``server.log``.

    Like ``tests.e2e.conftest.start_server``, except that a read timeout while the workers
    still load the app counts as "not ready yet", and the process is stopped if it never
    gets ready (so a slow start cannot leave a server behind).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(instance),
        "GATEWAY_ENV": "development",
        "GATEWAY_BASE_URL": url,
        "GATEWAY_INSTANCE_DIR": str(instance),
        "GATEWAY_DATABASE_URL": f"sqlite:///{instance / 'gateway.db'}",
        "GATEWAY_KEYS_DIR": str(instance / "keys"),
        "GATEWAY_LOG_LEVEL": "DEBUG",
        "PYTHONPATH": str(REPO),
        "PROMETHEUS_MULTIPROC_DIR": str(instance / "metrics"),
        "GATEWAY_RATE_LIMIT_ADDRESS": "100000/second",  # tests fetch many tokens at once
    }
    (instance / "metrics").mkdir(exist_ok=True)
    with open(instance / "server.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "run", "--port", str(port), "--workers", "2"],
            env=env, cwd=instance, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return LiveServer(url, env, process, instance)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError("the gateway did not become ready:\n" + (instance / "server.log").read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("consent-e2e")
    shutil.copytree(keys_dir, instance / "keys")
    live = start_debug_server(instance)
    yield live
    stop_server(live.process)


@pytest.fixture(scope="module")
def partners(server, tmp_path_factory):
    return register_partners(server, tmp_path_factory.mktemp("consent-partners"))


def post(partner, path, body, **headers):
    return HTTP.post(f"{partner.base_url}{path}", json=body, headers=partner.headers(**headers),
                     timeout=10)


def get(partner, path):
    return HTTP.get(f"{partner.base_url}{path}", headers=partner.headers(), timeout=10)


def consent_body(bsn=ex.BSN, born=None, roles=("parent",), purpose="mazl", parties=(), start=None,
                 end=None) -> dict:
    start = start or TODAY - timedelta(days=1)
    return {
        "subject": {"bsn": bsn},
        "date_of_birth": born or ex.born(TODAY, 9),
        "purpose": purpose,
        "parties": list(parties) or [ex.SCHOOL, "ggd"],
        "granted_by": [{"role": role} for role in roles],
        "valid_from": start.isoformat(),
        "valid_until": (end or TODAY + timedelta(days=180)).isoformat(),
        "evidence": {"method": "digital", "reference": "portaal-8812"},
    }


def record(partner, **changes) -> dict:
    response = post(partner, "/api/v1/consents", consent_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def send(partner, message_type, recipient, payload, bsn=ex.BSN):
    body = {"message_type": message_type, "recipient": recipient, "subject": {"bsn": bsn},
            "payload": payload}
    return post(partner, "/api/v1/exchanges", body, **{"Idempotency-Key": uuid.uuid4().hex})


def audit_events(server, action=None) -> list[dict]:
    path = server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT canonical FROM audit_events ORDER BY seq").fetchall()
    events = [json.loads(canonical) for (canonical,) in rows]
    return [e for e in events if action is None or e["action"] == action]


def refused(response, status, code) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    return response.json()


# the age rule, on valid_from, at exact birthdays --------------------------------------------
START = date(2025, 3, 10)
AGE_BANDS = [
    # (date of birth, grantors, accepted?)
    ("2013-03-11", ["parent"], True),  # 11 on valid_from
    ("2013-03-11", ["youth"], False),
    ("2013-03-10", ["parent", "youth"], True),  # 12th birthday on valid_from
    ("2013-03-10", ["parent"], False),
    ("2009-03-11", ["guardian", "youth"], True),  # 15
    ("2009-03-11", ["youth"], False),
    ("2009-03-10", ["youth"], True),  # 16th birthday on valid_from
    ("2009-03-10", ["parent", "guardian"], False),
]


@pytest.mark.parametrize(("born", "roles", "accepted"), AGE_BANDS)
def test_each_age_band_accepted_and_refused(server, partners, born, roles, accepted):
    body = consent_body(bsn=YOUNG_BSN, born=born, roles=roles, start=START)
    response = post(partners[ex.SCHOOL], "/api/v1/consents", body)
    if accepted:
        assert response.status_code == 201, response.text
        return
    problem = refused(response, 422, "consent_grantor_invalid")
    assert list(problem["errors"]) == ["granted_by"]
    event = audit_events(server, "consent.record")[-1]
    assert (event["decision"], event["reason"]) == ("denied", "consent_grantor_invalid")


def test_receipt_verifies_with_the_published_key(server, partners):
    first = record(partners[ex.SCHOOL])
    second = record(partners[ex.SCHOOL], purpose="support", parties=("school", ex.WIJ))
    other_child = record(partners[ex.SCHOOL], bsn=ex.OTHER_BSN)
    keys = KeySet.import_key_set(HTTP.get(f"{server.url}/oauth/jwks", timeout=10).json())
    tokens = [jwt.decode(c["receipt"], keys, algorithms=["ES256"])
              for c in (first, second, other_child)]
    header, claims = tokens[0].header, tokens[0].claims
    assert header["typ"] == "consent-receipt+jwt" and header["alg"] == "ES256"
    assert header["kid"] in {key["kid"] for key in keys.as_dict()["keys"]}
    assert claims["iss"] == server.url and claims["jti"] == first["id"]
    assert claims["purpose"] == "mazl" and claims["parties"] == [ex.SCHOOL, "ggd"]
    assert claims["grantor_roles"] == ["parent"] and claims["evidence_method"] == "digital"
    assert claims["recorded_by"] == ex.SCHOOL
    assert (claims["valid_from"], claims["valid_until"]) == (first["valid_from"],
                                                            first["valid_until"])
    assert abs(claims["iat"] - __import__("time").time()) < 120
    # per consent, even for the same child: no two parties can link on it (API.md s13 rule 1)
    assert tokens[1].claims["subject_ref"] != claims["subject_ref"]
    assert tokens[2].claims["subject_ref"] != claims["subject_ref"]
    assert ex.BSN not in claims["subject_ref"] and ex.BSN not in json.dumps(claims)
    tampered = first["receipt"][:-4] + ("AAAA" if not first["receipt"].endswith("AAAA") else "BBBB")
    with pytest.raises(Exception):  # noqa: B017 - any verification failure
        jwt.decode(tampered, keys, algorithms=["ES256"])


def test_exchange_with_consent_then_withdrawn_then_expired(server, partners):
    school, wij = partners[ex.SCHOOL], partners[ex.WIJ]
    wij.drain()
    refused(send(school, "support_request", ex.WIJ, ex.support_request(TODAY), LATE_BSN),
            403, "consent_missing")
    consent = record(school, bsn=LATE_BSN, purpose="support", parties=("school", ex.WIJ))
    accepted = send(school, "support_request", ex.WIJ, ex.support_request(TODAY), LATE_BSN)
    assert accepted.status_code == 202, accepted.text
    [item] = wij.drain()
    assert item["legal_basis"] == {"type": "consent", "consent_id": consent["id"]}
    [sent] = [e for e in audit_events(server, "exchange.send")
              if e["exchange_id"] == accepted.json()["id"]]
    assert sent["consent_id"] == consent["id"] and sent["decision"] == "allowed"
    withdrawn = post(wij, f"/api/v1/consents/{consent['id']}/withdraw",
                     {"withdrawn_by": {"role": "parent"}, "reason": "Gesprek met ouders."})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["withdrawn_at"]
    refused(send(school, "support_request", ex.WIJ, ex.support_request(TODAY), LATE_BSN),
            403, "consent_withdrawn")
    ended = record(school, bsn=LATE_BSN, purpose="mazl", parties=("school", "ggd"),
                   start=TODAY - timedelta(days=300), end=TODAY - timedelta(days=1))
    assert ended["status"] == "expired"
    refused(send(school, "sickness_absence_referral", ex.GGD,
                 ex.sickness_absence_referral(TODAY), LATE_BSN), 403, "consent_expired")
    assert partners[ex.GGD].drain() == [] and wij.drain() == []
    reasons = [e["reason"] for e in audit_events(server, "exchange.send")
               if e["decision"] == "denied"][-3:]
    assert reasons == ["consent_missing", "consent_withdrawn", "consent_expired"]


def test_a_consent_for_type_ggd_covers_any_ggd_but_not_wij(server, partners):
    school = partners[ex.SCHOOL]
    for oin in (ex.GGD, ex.GGD_2, ex.WIJ):
        partners[oin].drain()
    mazl = record(school, bsn=TYPE_BSN, parties=("school", "ggd"))
    for ggd in (ex.GGD, ex.GGD_2):
        response = send(school, "sickness_absence_referral", ggd,
                        ex.sickness_absence_referral(TODAY), TYPE_BSN)
        assert response.status_code == 202, response.text
        [item] = partners[ggd].drain()
        assert item["legal_basis"]["consent_id"] == mazl["id"]
    record(school, bsn=TYPE_BSN, purpose="support", parties=("school", "ggd"))  # not WIJ
    refused(send(school, "support_request", ex.WIJ, ex.support_request(TODAY), TYPE_BSN), 403,
            "consent_missing")
    assert partners[ex.WIJ].drain() == []


def test_search_and_read_only_for_those_the_consent_names(server, partners):
    school, ggd, wij, swv = (partners[o] for o in (ex.SCHOOL, ex.GGD, ex.WIJ, ex.SWV))
    wij.drain()
    for_wij = record(school, bsn=YOUNG_BSN, purpose="support", parties=("school", ex.WIJ))
    search = {"subject": {"bsn": YOUNG_BSN}, "limit": 500}
    empty = {"items": [], "next_cursor": None}
    # WIJ is named by OIN but never had this BSN from the gateway; the GGD and the SWV are
    # not named: a search by BSN tells none of them anything (API.md section 13 rule 2)
    for partner in (wij, ggd, swv):
        assert post(partner, "/api/v1/consents/search", search).json() == empty
    school_items = post(school, "/api/v1/consents/search", search).json()["items"]
    assert for_wij["id"] in {c["id"] for c in school_items}
    # once WIJ received the child (by its own pseudonym) it finds the consent by that
    sent = send(school, "support_request", ex.WIJ, ex.support_request(TODAY), YOUNG_BSN)
    assert sent.status_code == 202, sent.text
    [item] = wij.drain()
    mine = post(wij, "/api/v1/consents/search", {"subject": item["subject"]}).json()["items"]
    assert [c["id"] for c in mine] == [for_wij["id"]]
    assert get(wij, f"/api/v1/consents/{for_wij['id']}").json()["id"] == for_wij["id"]
    refused(get(ggd, f"/api/v1/consents/{for_wij['id']}"), 404, "not_found")
    refused(post(swv, f"/api/v1/consents/{for_wij['id']}/withdraw",
                 {"withdrawn_by": {"role": "youth"}, "reason": "x"}), 404, "not_found")
    assert get(wij, f"/api/v1/consents/{for_wij['id']}").json()["status"] == "active"


def test_scope_and_body_refusals_are_audited(server, partners):
    school = partners[ex.SCHOOL]
    response = HTTP.post(f"{server.url}/api/v1/consents", json=consent_body(),
                         headers=school.headers("consent:read"), timeout=10)
    refused(response, 403, "insufficient_scope")
    refused(HTTP.post(f"{server.url}/api/v1/consents", json=consent_body(), timeout=10), 401,
            "missing_token")
    bad = HTTP.post(f"{server.url}/api/v1/consents", data=b'{"subject": 1, "subject": 2}',
                    headers=school.headers(**{"Content-Type": "application/json"}), timeout=10)
    refused(bad, 400, "invalid_json")
    reasons = [e["reason"] for e in audit_events(server, "consent.record")][-2:]
    assert reasons == ["insufficient_scope", "invalid_json"]


def test_no_bsn_in_any_response_log_or_audit_record(server, partners):
    """Runs last: everything this module made went through the same server."""
    assert len(SEEN) > 30
    log = (server.instance / "server.log").read_text()
    assert '"level": "info"' in log  # the server logged at least at INFO while this ran
    canonical = json.dumps(audit_events(server))
    for bsn in BSNS:
        assert not any(bsn in text for text in SEEN), bsn
        assert bsn not in log, bsn
        assert bsn not in canonical, bsn
