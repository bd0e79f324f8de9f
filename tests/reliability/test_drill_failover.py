"""Drill: the PostgreSQL primary is lost under load and its synchronous standby promoted.

Two private clusters of the installed PostgreSQL 15 (never the shared one): a primary
(``ThrowawayPostgres``) with ``synchronous_commit = on`` and ``synchronous_standby_names``
naming a streaming standby (``StandbyPostgres``, ``pg_basebackup``). So a commit returns only
once the standby has the WAL: the ``202`` of an exchange then means that its message row and
its ``exchange.send`` audit event survive the loss of the primary (with ``local`` or ``off`` a
202 could name a message the standby never saw, and the audit chain of the promoted server
would miss the event that the partner was told about).

Two gateway replicas (``gateway run``, gunicorn with two workers each) and two delivery
workers (``gateway worker``) use one libpq multi-host URL, primary first, with
``target_session_attrs=read-write``. Traffic goes through both replicas; the primary and all
its processes get SIGKILL (the machine is gone); a moment later the standby is promoted
(``pg_ctl promote``). Nothing is done to the gateway or the workers.

Checked: during the switch every API answer is a 503 problem with ``Retry-After`` (never a 500,
never a dropped connection); afterwards the same processes accept again through both replicas
without a restart; every exchange answered 202 is stored on the new primary with its audit
event; every stored message is pushed to the recipient at least once (a repeat only under the
same ``id``); the audit chain has no gap and ``gateway audit verify`` accepts it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import delivery_helpers as delivery
from tests import drill_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.skipif(not dh.postgres_available(), reason="needs PostgreSQL 15 initdb")

# ``make drill`` raises these (DRILL_SIZE); ``make test`` runs the small size
LOAD_THREADS = int(os.environ.get("GATEWAY_DRILL_THREADS", "4"))
SECONDS_BEFORE = float(os.environ.get("GATEWAY_DRILL_SECONDS", "3"))
FROZEN_SECONDS = float(os.environ.get("GATEWAY_DRILL_FROZEN_SECONDS", "1.5"))
SWITCH_SECONDS = 2  # the primary is gone, the standby not yet promoted
SYNCHRONOUS_COMMIT = os.environ.get("GATEWAY_DRILL_SYNCHRONOUS_COMMIT", "on")  # see docs
WORKER_ENV = {"GATEWAY_DELIVERY_BACKOFF_SECONDS": "1", "GATEWAY_DELIVERY_TIMEOUT_SECONDS": "2"}


@pytest.fixture
def cluster():
    primary = dh.ThrowawayPostgres()
    standby = None
    try:
        primary.configure(
            f"synchronous_commit = {SYNCHRONOUS_COMMIT}\n"
            "synchronous_standby_names = 'FIRST 1 (standby)'\n"
            "wal_sender_timeout = 5s\n"
        )
        primary.start()
        standby = dh.StandbyPostgres(primary, name="standby")
        standby.start()
        dh.wait_until(
            lambda: primary.query(
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'"
            ) == "sync",
            30, 0.2, "the standby to stream synchronously",
        )
        yield primary, standby
    finally:
        if standby is not None:
            standby.destroy()
        primary.destroy()


@pytest.fixture
def replicas(cluster, tmp_path, keys_dir):
    primary, standby = cluster
    url = (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/postgres"
        "?target_session_attrs=read-write"
    )
    keys = tmp_path / "keys"
    shutil.copytree(keys_dir, keys)
    issuer = f"http://127.0.0.1:{free_port()}"  # one public base URL, as behind a balancer
    shared = {"GATEWAY_DATABASE_URL": url, "GATEWAY_BASE_URL": issuer}
    servers = []
    try:
        for name in ("replica-a", "replica-b"):
            instance = tmp_path / name
            instance.mkdir()
            servers.append(start_server(instance, keys, shared))
        yield primary, standby, url, servers
    finally:
        for server in servers:
            stop_server(server.process)


def _token(server, partner) -> str:
    response = requests.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": partner.assertion(
                audience=f"{server.env['GATEWAY_BASE_URL']}/oauth/token"
            ),
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _retry(via, body, refused) -> dict[str, str]:
    """Each refused request sent again with its own key (round robin over the replicas):
    key -> the id of the 202 that answers it."""

    def again(numbered) -> tuple[str, str]:
        number, answer = numbered
        partner = via[number % len(via)]
        response = requests.post(
            f"{partner.base_url}/api/v1/exchanges", json=body, timeout=15,
            headers={**partner.headers(), "Idempotency-Key": answer.key},
        )
        assert response.status_code == 202, response.text
        return answer.key, response.json()["id"]

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(again, enumerate(refused)))


def test_primary_lost_standby_promoted_under_load(replicas, tmp_path):
    primary, standby, url, (first, second) = replicas
    assert primary.query("SHOW synchronous_commit") == SYNCHRONOUS_COMMIT
    recipient = delivery.recipient(f"{first.url}/oauth/jwks")
    workers = []
    load = None
    try:
        partners = delivery.register_push_partners(first, tmp_path, recipient.delivery_url)
        school = partners[ex.SCHOOL]
        token = _token(first, school)  # accepted by both replicas (shared keys and issuer)
        via = [dataclasses.replace(school, base_url=server.url, _tokens={None: token})
               for server in (first, second)]
        workers = [
            delivery.start_worker(server, "--poll", "0.2", name=f"failover-{n}", env=WORKER_ENV)
            for n, server in enumerate((first, second))
        ]
        body = dh.absence_body()
        load = dh.Load(school, threads=LOAD_THREADS, mix=[(p, body) for p in via]).start()
        dh.wait_until(lambda: load.count() >= 20, 30, what="traffic before the failover")
        time.sleep(SECONDS_BEFORE)

        # the worst moment: replication stalls (the primary's WAL sender stopped, as when the
        # link to the standby hangs), so the standby falls behind; then the primary is gone
        os.kill(primary.process("walsender"), signal.SIGSTOP)
        frozen_at = time.monotonic()
        time.sleep(FROZEN_SECONDS)
        primary.kill9()
        lost_at = time.monotonic()
        ready = []
        while time.monotonic() - lost_at < SWITCH_SECONDS:
            for server in (first, second):
                ready.append(requests.get(f"{server.url}/readyz", timeout=10))
            time.sleep(0.2)
        promote_at = time.monotonic()  # from here on the standby may accept writes
        standby.promote()
        promoted_at = time.monotonic()
        assert not standby.in_recovery()

        dh.wait_until(
            lambda: any(a.status == 202 and a.sent > promoted_at for a in list(load.answers)),
            30, what="exchanges accepted again",
        )
        # each replica on its own, so that neither may hide behind the other
        direct = []
        for partner in via:
            response = partner.send("absence_report", ex.LEERPLICHT, body["payload"])
            assert response.status_code == 202, response.text
            direct.append(response.json()["id"])
        dh.wait_until(
            lambda: all(requests.get(f"{s.url}/readyz", timeout=10).status_code == 200
                        for s in (first, second)),
            30, what="/readyz of both replicas to recover",
        )
        time.sleep(1)
        answers = load.stop()
        load = None

        accepted = dh.accepted_ids(answers) + direct
        # what a partner does with a 503: the same request again, same Idempotency-Key. A
        # request whose commit reached the standby before the primary died (its answer lost
        # with the connection) gets the stored answer, the others are stored now: either way
        # one message per key
        retried = _retry(via, body, [a for a in answers if a.status == 503])
        # the first thing to know: no exchange answered 202 is missing on the new primary
        lost = set(accepted) - dh.message_ids(url)
        assert not lost, f"{len(lost)} of {len(accepted)} exchanges answered 202 are lost"
        dh.wait_until(
            lambda: set(accepted) <= set(recipient.stats()["ids"])
            and all(row["status"] == "delivered"
                    for row in delivery.message_rows(first).values()),
            90, 0.5, "every stored message delivered",
        )
        stats = recipient.stats()
        alive = [worker.process.poll() is None for worker in workers]
    finally:
        if load is not None:
            load.stop()
        codes = [worker.terminate() for worker in workers]
        recipient.stop()

    # the same processes throughout: they reconnected by themselves
    assert alive == [True, True]
    assert codes == [0, 0]
    assert first.process.poll() is None and second.process.poll() is None

    # during the switch: a 503 problem with Retry-After, never a 500 or a dropped connection
    counts = dh.summary(answers)
    assert set(counts) <= {"202", "503"}, counts
    during = [a for a in answers if lost_at < a.sent and a.at < promote_at]
    assert during and all(a.status == 503 for a in during), dh.summary(during)
    for answer in (a for a in answers if a.status == 503):
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert int(answer.headers["Retry-After"]) > 0
        assert answer.body["status"] == 503 and answer.body["code"] == "service_unavailable"
    assert ready and {r.status_code for r in ready} == {503}
    # while the standby could not acknowledge, no exchange was acknowledged either
    frozen = [a for a in answers if frozen_at + 0.5 < a.at < lost_at]
    assert not [a for a in frozen if a.status == 202], dh.summary(frozen)
    assert sum(1 for a in answers if a.status == 202 and a.sent > promoted_at) > 0
    assert sum(1 for a in answers if a.status == 202 and a.at < lost_at) > 0

    # no 202 lost: every accepted exchange is on the promoted standby with its audit event;
    # with the retries of the 503s, exactly one stored message per Idempotency-Key
    assert len(set(accepted)) == len(accepted)
    assert len(set(retried.values())) == len(retried)
    assert set(accepted).isdisjoint(retried.values())
    dh.assert_nothing_half_written(url, accepted + list(retried.values()))
    stored = dh.message_ids(url)
    assert stored == set(accepted) | set(retried.values())
    # delivered at least once; a repeat (a push whose "delivered" died with the primary) comes
    # again under the same id, so the recipient knows it
    assert set(stats["ids"]) == stored
    delivered = {e["exchange_id"] for e in dh.audit_events(url, "exchange.deliver")}
    assert delivered == stored

    # the audit chain: no gap, every link, and the shipped verifier agrees
    assert dh.assert_audit_chain(url) >= 2 * len(accepted)
    assert dh.cli_audit_verify(first)["valid"] is True
