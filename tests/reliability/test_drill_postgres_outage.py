"""Drill: PostgreSQL stopped and started under load.

A real gateway (gunicorn, two workers) on a private PostgreSQL cluster (``ThrowawayPostgres``,
never the shared one) takes a steady stream of exchanges. The database is stopped (fast
shutdown: every open connection is cut) for a few seconds and started again, with nothing done
to the gateway. While it is down: every API answer is a 503 problem+json with ``Retry-After``,
``/readyz`` answers 503 and ``/healthz`` 200. Afterwards: the same processes accept again,
every 202 has its message row and its ``exchange.send`` event (and no row or event exists
without the other), and the audit chain verifies.
"""

from __future__ import annotations

import shutil
import time

import pytest
import requests

from tests import drill_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

pytestmark = pytest.mark.skipif(not dh.postgres_available(), reason="needs PostgreSQL 15 initdb")

DOWN_SECONDS = 4


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


def test_database_outage_under_load(gateway):
    server, postgres, partners = gateway
    school = partners[ex.SCHOOL]
    school.token()
    load = dh.Load(school, threads=3).start()
    dh.wait_until(lambda: load.count() >= 30, 30, what="traffic before the outage")

    postgres.stop("fast")
    down_at = time.monotonic()
    health, ready = [], []
    while time.monotonic() - down_at < DOWN_SECONDS:
        health.append(requests.get(f"{server.url}/healthz", timeout=10))
        ready.append(requests.get(f"{server.url}/readyz", timeout=10))
        time.sleep(0.3)
    restart_at = time.monotonic()  # from here on PostgreSQL may accept again
    postgres.start()
    up_at = time.monotonic()

    dh.wait_until(
        lambda: requests.get(f"{server.url}/readyz", timeout=10).status_code == 200, 30,
        what="/readyz to recover",
    )
    dh.wait_until(
        lambda: any(a.status == 202 and a.sent > up_at for a in list(load.answers)), 30,
        what="exchanges accepted again",
    )
    time.sleep(0.5)
    answers = load.stop()

    # the same gunicorn master throughout: recovery needed no restart
    assert server.process.poll() is None
    assert {r.status_code for r in health} == {200}
    assert ready and {r.status_code for r in ready} == {503}
    for response in ready:
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.headers.get("Retry-After")
        assert response.json()["status"] == 503

    counts = dh.summary(answers)
    assert set(counts) <= {"202", "503"}, counts  # no 500, no dropped connection
    during = [a for a in answers if down_at < a.sent and a.at < restart_at]
    assert during and all(a.status == 503 for a in during), dh.summary(during)
    for answer in (a for a in answers if a.status == 503):
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert int(answer.headers["Retry-After"]) > 0
        assert answer.body["status"] == 503 and answer.body["code"] == "service_unavailable"

    accepted = dh.accepted_ids(answers)
    assert any(a.sent > up_at for a in answers if a.status == 202)
    dh.assert_nothing_half_written(postgres.url, accepted)
    dh.assert_audit_chain(postgres.url)
    report = dh.cli_audit_verify(server)
    assert report["valid"] is True
