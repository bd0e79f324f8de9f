"""Drill: SIGTERM of the server and of a delivery worker under load.

A gateway (gunicorn, two workers) on a private PostgreSQL cluster, a push recipient
(``gateway.delivery.recipient``, deduplicating on ``id``) for the leerplicht office and a
``gateway worker``; a steady stream of absence reports to that office throughout.

1. SIGTERM to the gunicorn master mid-traffic: it exits 0 (graceful), clients see either a
   complete answer or no connection at all (never a 500); the gateway is started again on the
   same port and the same clients (same tokens) carry on.
2. SIGTERM to the worker mid-delivery: it exits 0 and a new worker takes over.

Afterwards: every 202 has its message row and its ``exchange.send`` event (and nothing exists
without the other: no partial audit entry), the audit chain verifies, and every accepted message
reached the recipient exactly once (no loss, no duplicate from a graceful stop).
"""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest

from tests import delivery_helpers as deliv
from tests import drill_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server

pytestmark = pytest.mark.skipif(not dh.postgres_available(), reason="needs PostgreSQL 15 initdb")

WORKER_ENV = {"GATEWAY_DELIVERY_BACKOFF_SECONDS": "1", "GATEWAY_DELIVERY_TIMEOUT_SECONDS": "5"}


@pytest.fixture
def gateway(tmp_path, keys_dir):
    postgres = dh.ThrowawayPostgres()
    servers, workers, recipient = [], [], None
    try:
        postgres.start()
        shutil.copytree(keys_dir, tmp_path / "keys")
        servers.append(
            start_server(tmp_path, tmp_path / "keys", {"GATEWAY_DATABASE_URL": postgres.url})
        )
        recipient = deliv.recipient(f"{servers[0].url}/oauth/jwks")
        partners = deliv.register_push_partners(servers[0], tmp_path, recipient.delivery_url)
        yield servers, workers, recipient, partners, postgres
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.kill9()
        if recipient:
            recipient.stop()
        for server in servers:
            stop_server(server.process)
        postgres.destroy()


def test_sigterm_of_server_and_worker_under_load(gateway):
    servers, workers, recipient, partners, postgres = gateway
    server = servers[0]
    school = partners[ex.SCHOOL]
    school.token()
    recipient.control(delay=0.02)  # deliveries take a moment, so the worker has rows in hand
    workers.append(deliv.start_worker(server, "--poll", "0.2", "--batch", "8", env=WORKER_ENV,
                                      name="first"))
    load = dh.Load(school, threads=3, body=deliv.absence_body()).start()
    dh.wait_until(lambda: load.count() >= 40, 30, what="traffic before the SIGTERM")

    # 1. the server
    os.killpg(server.process.pid, signal.SIGTERM)
    assert server.process.wait(30) == 0
    stopped_at = time.monotonic()
    time.sleep(0.5)
    server = dh.restart_server(server)
    servers.append(server)
    dh.wait_until(
        lambda: any(a.status == 202 and a.sent > stopped_at for a in list(load.answers)), 30,
        what="exchanges accepted by the restarted server",
    )

    # 2. the worker, while it delivers
    dh.wait_until(lambda: recipient.stats()["received"] >= 20, 60, what="deliveries")
    first = workers[0]
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(30) == 0, first.output()[-2000:]
    mark = load.count()
    dh.wait_until(lambda: load.count() >= mark + 30, 30, what="traffic after the worker stop")
    workers.append(deliv.start_worker(server, "--poll", "0.2", "--batch", "8", env=WORKER_ENV,
                                      name="second"))
    time.sleep(1)
    answers = load.stop()

    counts = dh.summary(answers)
    assert set(counts) <= {"202", "503"} | {k for k in counts if k.startswith("no answer")}, \
        counts
    assert counts.get("202", 0) >= 60, counts
    accepted = dh.accepted_ids(answers)
    dh.assert_nothing_half_written(postgres.url, accepted)

    recipient.control(delay=0.0)
    stored = dh.message_ids(postgres.url)

    def all_delivered():
        rows = deliv.message_rows(server)
        return all(rows[i]["status"] == "delivered" for i in stored)

    dh.wait_until(all_delivered, 90, 0.5, "every stored message delivered")
    assert workers[1].terminate() == 0
    stats = recipient.stats()
    assert set(accepted) <= set(stats["ids"])  # no accepted message lost
    assert set(stats["ids"]) == stored
    assert stats["duplicates"] == 0, stats["duplicates"]  # a graceful stop delivers nothing twice
    assert stats["bad_signatures"] == 0
    delivered = [e["exchange_id"] for e in dh.audit_events(postgres.url, "exchange.deliver")]
    assert sorted(delivered) == sorted(stored)
    dh.assert_audit_chain(postgres.url)
    assert dh.cli_audit_verify(server)["valid"] is True
