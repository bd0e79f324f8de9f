"""Scale-out simulation (issue 9): two gateway replicas and two delivery workers on one
PostgreSQL, load through both replicas at once; every message delivered once, audit chain
valid and verified by the CLI. Needs ``GATEWAY_TEST_POSTGRES_URL``."""

from __future__ import annotations

import itertools
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.e2e.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs GATEWAY_TEST_POSTGRES_URL")
MESSAGES = 300


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, keys_dir):
    url = create_postgres_database("gwscale")
    keys = tmp_path_factory.mktemp("scale-keys") / "keys"
    shutil.copytree(keys_dir, keys)
    issuer = f"http://127.0.0.1:{free_port()}"  # one public base URL, as behind a balancer
    shared = {"GATEWAY_DATABASE_URL": url, "GATEWAY_BASE_URL": issuer}
    servers = []
    try:
        for name in ("replica-a", "replica-b"):
            instance = tmp_path_factory.mktemp(name)
            servers.append(start_server(instance, keys, shared))
        yield servers
    finally:
        for server in servers:
            stop_server(server.process)
        drop_postgres_database(url)


def test_two_replicas_two_workers_every_message_once(replicas, tmp_path):
    first, second = replicas
    recipient = dh.recipient(f"{first.url}/oauth/jwks")
    workers = []
    try:
        partners = dh.register_push_partners(first, tmp_path, recipient.delivery_url)
        school = partners[ex.SCHOOL]
        # the token is issued by one replica and accepted by the other (shared keys, issuer)
        token_response = requests.post(
            f"{first.url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": school.assertion(
                    audience=f"{first.env['GATEWAY_BASE_URL']}/oauth/token"
                ),
            },
            timeout=10,
        )
        assert token_response.status_code == 200, token_response.text
        token = token_response.json()["access_token"]
        workers = [
            dh.start_worker(first, "--poll", "0.2", name="scale-1",
                            env={"GATEWAY_DELIVERY_BACKOFF_SECONDS": "1"}),
            dh.start_worker(second, "--poll", "0.2", name="scale-2",
                            env={"GATEWAY_DELIVERY_BACKOFF_SECONDS": "1"}),
        ]
        body = dh.absence_body()
        targets = itertools.cycle([first.url, second.url])
        urls = [next(targets) for _ in range(MESSAGES)]

        def send(url: str) -> str:
            response = requests.post(
                f"{url}/api/v1/exchanges", json=body, timeout=30,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
            )
            assert response.status_code == 202, response.text
            return response.json()["id"]

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(send, urls))
        assert len(set(ids)) == MESSAGES
        dh.wait_until(
            lambda: all(row["status"] == "delivered" for row in dh.message_rows(first).values()),
            180, 0.5, "every message delivered",
        )
    finally:
        codes = [worker.terminate() for worker in workers]
        stats = recipient.stats()
        recipient.stop()
    assert codes == [0, 0]
    assert sorted(stats["ids"]) == sorted(ids)
    assert stats["duplicates"] == 0
    events = dh.assert_audit_chain(first)
    sends = dh.audit_events(first, "exchange.send")
    assert sorted(e["exchange_id"] for e in sends if e["decision"] == "allowed") == sorted(ids)
    assert len(dh.audit_events(first, "exchange.deliver")) == MESSAGES
    assert events >= 2 * MESSAGES
    verify = first.cli("audit", "verify", "--no-record")
    assert verify.returncode == 0, verify.stdout + verify.stderr
