"""Drill: key rotation while traffic flows, with no valid request refused.

A gateway (gunicorn, two workers) on a private PostgreSQL cluster takes a mixed stream of
exchanges throughout: absence reports (school -> leerplicht, BSN), sickness-absence referrals
(school -> GGD, needs the consent recorded before any rotation) and JGZ advice (GGD -> school,
subject given as the pseudonym GGD received before any rotation).

1. ``gateway keys rotate`` (token-signing key): running workers pick the new key up without a
   restart; tokens signed by the old key keep working, new tokens carry the new ``kid``.
2. ``gateway keys rotate-master`` (pseudonym/master secret version) + ``kill -HUP`` of the
   gunicorn master (processes load the master ring at start; HUP replaces the workers
   gracefully): new payloads are sealed with version 2 and new pseudonyms are issued under
   it, while the version-1 pseudonym, the version-1 consent and version-1 sealed payloads
   keep working.

Every answer during the drill is a 202. The audit checkpoint key and the SAML SP certificate
have no rotation (one key each, see docs/drills.md), so they are not drilled here.
"""

from __future__ import annotations

import shutil
import signal
import time
import uuid

import pytest
import requests

from tests import drill_helpers as dh
from tests import exchange_helpers as ex
from tests import oauth_helpers as oh
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

pytestmark = pytest.mark.skipif(not dh.postgres_available(), reason="needs PostgreSQL 15 initdb")


@pytest.fixture
def gateway(tmp_path, keys_dir):
    postgres = dh.ThrowawayPostgres()
    server = None
    try:
        postgres.start()
        shutil.copytree(keys_dir, tmp_path / "keys")
        server = start_server(tmp_path, tmp_path / "keys", {"GATEWAY_DATABASE_URL": postgres.url})
        yield server, postgres, register_partners(server, tmp_path)
    finally:
        if server:
            stop_server(server.process)
        postgres.destroy()


def exchange(message_type, recipient, payload, subject=None) -> dict:
    return {
        "message_type": message_type,
        "recipient": recipient,
        "subject": subject or {"bsn": ex.BSN},
        "payload": payload,
    }


def post(partner, path, body, token=None) -> requests.Response:
    headers = {
        "Authorization": f"Bearer {token or partner.token()}",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    return requests.post(f"{partner.base_url}{path}", json=body, headers=headers, timeout=15)


def key_versions(url: str) -> set[int]:
    return {row[0] for row in dh._rows(url, "SELECT DISTINCT key_version FROM messages")}


def test_rotation_while_traffic_flows(gateway):
    server, postgres, partners = gateway
    school, ggd = partners[ex.SCHOOL], partners[ex.GGD]
    today = ex.today()
    # the GGD is named by OIN: a party named only by type sends nothing but replies under a
    # consent (API.md s13 rule 3), and the load sends advice unprompted
    consent = post(school, "/api/v1/consents", dh.consent_body(parties=[ex.SCHOOL, ex.GGD]))
    assert consent.status_code == 201, consent.text
    referral = exchange("sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(today))
    assert post(school, "/api/v1/exchanges", referral).status_code == 202
    (item,) = ggd.drain()
    v1_pseudonym = item["subject"]["pseudonym"]
    advice = exchange("jgz_advice", ex.SCHOOL, ex.jgz_advice(today), {"pseudonym": v1_pseudonym})
    mix = [
        (school, exchange("absence_report", ex.LEERPLICHT, ex.absence_report(today))),
        (school, referral),
        (ggd, advice),
    ]
    old_token = school.token()
    load = dh.Load(school, threads=3, mix=mix).start()
    dh.wait_until(lambda: load.count() >= 30, 30, what="traffic before the rotations")

    # 1. token-signing key
    old_kid = oh.decode_part(old_token, 0)["kid"]
    server.cli("keys", "rotate")
    for partner in (school, ggd):
        partner._tokens.clear()  # the load fetches new tokens from here on
    new_token = school.token()
    assert oh.decode_part(new_token, 0)["kid"] != old_kid
    for _ in range(6):  # both gunicorn workers, both tokens
        for token in (old_token, new_token):
            answer = post(school, "/api/v1/exchanges", mix[0][1], token=token)
            assert answer.status_code == 202, answer.text
    mark = load.count()
    dh.wait_until(lambda: load.count() >= mark + 30, 30, what="traffic after the key rotation")

    # 2. master secret version, then a graceful reload of the workers
    before = set(dh.gunicorn_workers(server.process.pid))
    result = server.cli("keys", "rotate-master")
    assert "version 2" in result.stdout
    server.process.send_signal(signal.SIGHUP)
    dh.wait_until(
        lambda: (lambda now: len(now) == 2 and not now & before)(
            set(dh.gunicorn_workers(server.process.pid))
        ),
        60,
        what="gunicorn to replace its workers",
    )
    reloaded_at = time.monotonic()
    dh.wait_until(
        lambda: sum(a.sent > reloaded_at for a in list(load.answers)) >= 30,
        30,
        what="traffic after the reload",
    )
    answers = load.stop()

    counts = dh.summary(answers)
    assert counts == {"202": len(answers)}, counts  # no valid request refused
    assert key_versions(postgres.url) == {1, 2}
    # the v1 consent still covers, the v1 pseudonym is still accepted (both in the load) and
    # v1 and v2 sealed payloads both open on a pull; the same child now has a v2 pseudonym
    assert post(school, "/api/v1/exchanges", referral).status_code == 202
    items = ggd.drain()
    pseudonyms = {
        i["subject"]["pseudonym"] for i in items if i["message_type"] == "sickness_absence_referral"
    }
    assert v1_pseudonym in pseudonyms and len(pseudonyms) == 2
    assert school.drain()
    dh.assert_nothing_half_written(postgres.url, dh.accepted_ids(answers))
    dh.assert_audit_chain(postgres.url)
    assert dh.cli_audit_verify(server)["valid"] is True


def test_delivery_worker_started_before_a_master_rotation(tmp_path, keys_dir):
    """A ``gateway worker`` that has not been restarted since ``keys rotate-master`` meets
    messages sealed under the new version (by API processes that did reload). It must not lose
    them: once the worker is restarted every message reaches the recipient exactly once. It
    also must not crash on them (``DeliveryWorker.attempt`` turns every failure, an unknown
    key version included, into an outcome that is retried with backoff)."""
    from tests import delivery_helpers as deliv

    shutil.copytree(keys_dir, tmp_path / "keys")
    server = start_server(tmp_path, tmp_path / "keys")
    recipient = deliv.recipient(f"{server.url}/oauth/jwks")
    env = {"GATEWAY_DELIVERY_BACKOFF_SECONDS": "1", "GATEWAY_DELIVERY_TIMEOUT_SECONDS": "2"}
    workers = []
    try:
        partners = deliv.register_push_partners(server, tmp_path, recipient.delivery_url)
        workers.append(deliv.start_worker(server, "--poll", "0.2", env=env, name="old-ring"))
        school = partners[ex.SCHOOL]
        before = deliv.send_many(school, 3, threads=1)
        dh.wait_until(
            lambda: set(before) <= set(recipient.stats()["ids"]),
            30,
            what="deliveries before the rotation",
        )
        old_pids = set(dh.gunicorn_workers(server.process.pid))
        server.cli("keys", "rotate-master")
        server.process.send_signal(signal.SIGHUP)  # the API reloads; the worker does not
        dh.wait_until(
            lambda: not set(dh.gunicorn_workers(server.process.pid)) & old_pids,
            60,
            what="gunicorn to replace its workers",
        )
        after = deliv.send_many(school, 3, threads=1)
        assert key_versions(server.env["GATEWAY_DATABASE_URL"]) == {1, 2}
        time.sleep(3)
        old_worker_alive = workers[0].process.poll() is None
        if old_worker_alive:
            assert workers[0].terminate() == 0
        workers.append(deliv.start_worker(server, "--poll", "0.2", env=env, name="new-ring"))
        dh.wait_until(
            lambda: set(after) <= set(recipient.stats()["ids"]),
            60,
            what="deliveries after the worker restart",
        )
        stats = recipient.stats()
        assert stats["duplicates"] == 0 and set(stats["ids"]) == set(before) | set(after)
        assert old_worker_alive, (
            "the worker must survive a message under an unknown key version: "
            + (workers[0].output()[-600:])
        )
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.kill9()
        recipient.stop()
        stop_server(server.process)
