"""Push delivery under faults, with real processes: a gateway (gunicorn), ``gateway worker``
processes, and a recipient on 127.0.0.1 that verifies signatures and deduplicates on ``id``.

Kill -9 of a worker mid-delivery, a recipient that answers 500, times out, is down for a while
or for too long (dead letters, replay), and a graceful SIGTERM. SQLite here (the single-writer
claim); PostgreSQL with two workers in ``test_delivery_postgres.py``.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
import requests

from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server

FAST = {
    "GATEWAY_DELIVERY_BACKOFF_SECONDS": "1",
    "GATEWAY_DELIVERY_TIMEOUT_SECONDS": "2",
    "GATEWAY_DELIVERY_MAX_ATTEMPTS": "10",
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("faults")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    recipient = dh.recipient(f"{server.url}/oauth/jwks")
    partners = dh.register_push_partners(server, instance, recipient.delivery_url)
    yield server, recipient, partners
    recipient.stop()
    stop_server(server.process)


@pytest.fixture
def workers(gateway):
    """Start workers with ``start(env, name)``; every one still running is stopped after."""
    server, _, _ = gateway
    started: list[dh.WorkerProcess] = []

    def start(env=None, *args, name=""):
        worker = dh.start_worker(server, "--poll", "0.2", *args, env={**FAST, **(env or {})},
                                 name=name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.terminate()


@pytest.fixture(autouse=True)
def healthy_recipient(gateway):
    _, recipient, _ = gateway
    if recipient.process is None:
        recipient.start(f"{gateway[0].url}/oauth/jwks")
    recipient.control(status=200, fail_first=0, delay=0.0, slow_first=0)
    yield


def delivered(server, ids) -> bool:
    rows = dh.message_rows(server)
    return all(rows[i]["status"] == "delivered" for i in ids)


def attempts_of(recipient, message_id) -> list[dict]:
    return [a for a in recipient.stats()["attempts"] if a["id"] == message_id]


def test_kill_9_mid_delivery_loses_nothing(gateway, workers):
    server, recipient, partners = gateway
    recipient.control(delay=1.5, slow_first=1)  # every first attempt hangs for 1.5 s
    ids = dh.send_many(partners[ex.SCHOOL], 4, threads=1)
    first = workers(None, "--batch", "1", name="doomed")
    dh.wait_until(lambda: recipient.stats()["in_flight"] >= 1, 30, what="a push in flight")
    first.kill9()
    rows = dh.message_rows(server)
    in_hand = [i for i in ids if rows[i]["lease_token"]]
    assert len(in_hand) == 1 and rows[in_hand[0]]["status"] == "accepted"
    second = workers(name="successor")
    dh.wait_until(lambda: delivered(server, ids), 40, what="every message delivered")
    stats = recipient.stats()
    assert set(ids) <= set(stats["ids"]) and len(stats["ids"]) == len(set(stats["ids"]))
    # the row in hand when the worker died went out again after its lease ran out
    assert len(attempts_of(recipient, in_hand[0])) == 2
    for other in set(ids) - set(in_hand):
        assert len([a for a in attempts_of(recipient, other) if a["status"] == 200]) == 1
    deliveries = [e for e in dh.audit_events(server, "exchange.deliver") if e["exchange_id"] in ids]
    assert sorted(e["exchange_id"] for e in deliveries) == sorted(ids)
    assert second.terminate() == 0


def test_recipient_500_is_retried_with_growing_backoff(gateway, workers):
    server, recipient, partners = gateway
    recipient.control(fail_first=3)
    [message_id] = dh.send_many(partners[ex.SCHOOL], 1)
    worker = workers()
    dh.wait_until(lambda: delivered(server, [message_id]), 30, what="delivery after 500s")
    tries = attempts_of(recipient, message_id)
    assert [t["status"] for t in tries] == [500, 500, 500, 200]
    gaps = [b["at"] - a["at"] for a, b in zip(tries, tries[1:], strict=False)]
    for gap, nominal in zip(gaps, (1, 2, 4), strict=True):  # base 1 s, doubling, +-20 %
        assert nominal * 0.8 - 0.1 <= gap <= nominal * 1.2 + 1.0, gaps
    row = dh.message_rows(server)[message_id]
    assert row["attempts"] == 4 and row["last_error"] is None
    assert recipient.stats()["ids"].count(message_id) == 1
    assert worker.terminate() == 0


def test_recipient_timeouts_are_retried_and_deduplicated(gateway, workers):
    server, recipient, partners = gateway
    recipient.control(delay=2.5, slow_first=2)  # longer than the 1 s read timeout
    [message_id] = dh.send_many(partners[ex.SCHOOL], 1)
    workers({"GATEWAY_DELIVERY_TIMEOUT_SECONDS": "1"})
    dh.wait_until(lambda: delivered(server, [message_id]), 30, what="delivery after timeouts")
    assert dh.message_rows(server)[message_id]["attempts"] == 3
    stats = recipient.stats()
    assert len(attempts_of(recipient, message_id)) == 3
    assert stats["ids"].count(message_id) == 1  # dedup on id: the slow ones arrived too


def test_recipient_down_for_a_while_gets_each_message_later_once(gateway, workers):
    server, recipient, partners = gateway
    recipient.stop()
    ids = dh.send_many(partners[ex.SCHOOL], 3)
    workers()
    dh.wait_until(
        lambda: all(r["attempts"] >= 2 for i, r in dh.message_rows(server).items() if i in ids),
        30, what="failed attempts while down",
    )
    rows = dh.message_rows(server)
    assert {rows[i]["last_error"] for i in ids} == {"ConnectionError"}
    recipient.start(f"{server.url}/oauth/jwks")
    dh.wait_until(lambda: delivered(server, ids), 30, what="delivery once back")
    stats = recipient.stats()
    assert sorted(stats["ids"]) == sorted(ids) and stats["received"] == 3


def test_down_too_long_dead_letters_then_replays(gateway):
    server, recipient, partners = gateway
    school = partners[ex.SCHOOL]
    recipient.stop()
    dead_before = dh.metric(server, "gateway_deliveries_total", 'result="dead_lettered"')
    ids = dh.send_many(school, 2)
    ran = dh.cli(server, "worker", "--once",
                 env={"GATEWAY_DELIVERY_MAX_ATTEMPTS": "3", "GATEWAY_DELIVERY_BACKOFF_SECONDS": "0"})
    run = server.cli
    log = ran.stdout + ran.stderr
    assert "ConnectionError" in log
    for secret in (ex.BSN, ex.CONTACT["email"], "Mist sinds september"):
        assert secret not in log
    rows = dh.message_rows(server)
    assert [(rows[i]["status"], rows[i]["attempts"]) for i in ids] == [("dead_lettered", 3)] * 2
    for message_id in ids:
        seen = requests.get(f"{server.url}/api/v1/exchanges/{message_id}",
                            headers=school.headers(), timeout=10).json()
        assert seen["status"] == "dead_lettered"
    dead = [e for e in dh.audit_events(server, "exchange.dead_letter") if e["exchange_id"] in ids]
    assert len(dead) == 2
    assert {(e["decision"], e["reason"], e["actor"]["org"]) for e in dead} == {
        ("denied", "delivery_failed", ex.OPERATOR)
    }
    assert dh.metric(server, "gateway_deliveries_total", 'result="dead_lettered"') == (
        dead_before + 2
    )
    listed = json.loads(run("outbox", "list", "--status", "dead_lettered", "--json").stdout)
    assert {r["id"] for r in listed} >= set(ids)
    assert {r["last_error"] for r in listed if r["id"] in ids} == {"ConnectionError"}

    recipient.start(f"{server.url}/oauth/jwks")
    assert "queued" in run("outbox", "retry", "--all-dead").stdout
    run("worker", "--once")
    stats = recipient.stats()
    assert sorted(stats["ids"]) == sorted(ids) and stats["received"] == 2
    for message_id in ids:
        seen = requests.get(f"{server.url}/api/v1/exchanges/{message_id}",
                            headers=school.headers(), timeout=10).json()
        assert seen["status"] == "delivered"
    retried = [e for e in dh.audit_events(server, "admin.outbox.retry") if e["exchange_id"] in ids]
    assert len(retried) == 2
    dh.assert_audit_chain(server)


def test_sigterm_finishes_the_push_in_hand(gateway, workers):
    server, recipient, partners = gateway
    recipient.control(delay=2.0, slow_first=1)
    [message_id] = dh.send_many(partners[ex.SCHOOL], 1)
    worker = workers({"GATEWAY_DELIVERY_TIMEOUT_SECONDS": "5"})
    dh.wait_until(lambda: recipient.stats()["in_flight"] >= 1, 30, what="a push in flight")
    started = time.monotonic()
    assert worker.terminate(timeout=15) == 0
    assert time.monotonic() - started >= 1.0  # it waited for the answer
    row = dh.message_rows(server)[message_id]
    assert row["status"] == "delivered" and row["lease_token"] is None
    assert len(attempts_of(recipient, message_id)) == 1
