"""Helpers of the push delivery tests: stored messages, a real recipient, real workers.

The recipient is ``gateway.delivery.recipient`` run as its own process on 127.0.0.1 (it checks
every signature against the gateway's ``/oauth/jwks`` and deduplicates on ``id``); workers are
``python -m gateway.cli worker`` processes; gateways are ``tests.e2e.conftest.start_server``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import requests
from joserfc.jwk import ECKey
from sqlalchemy import insert

from gateway.audit.log import AuditEvent, AuditLog
from gateway.clock import system_clock
from gateway.exchange.models import Message
from gateway.registry.service import OrganisationRegistry
from gateway.sealing import MESSAGES, Sealer
from gateway.storage.database import Database
from tests import exchange_helpers as ex
from tests.e2e.conftest import REPO, free_port
from tests.e2e.partners import ALL_SCOPES, Partner

PAYLOAD = {"contact": {"email": "geheim@example.nl"}, "remarks": "vertrouwelijk-7731"}


# stored messages, for tests that call the delivery code directly ---------------------------
@dataclass
class Seeded:
    db: Database
    sealer: Sealer
    orgs: dict  # oin -> Organisation
    audit: AuditLog


def seed(database_url: str, keys, delivery_url: str | None, **recipient) -> Seeded:
    """The demo organisations; the leerplicht office gets ``delivery_url``."""
    db = Database(database_url)
    registry = OrganisationRegistry(db, production=False)
    orgs = {}
    for oin, name, type_ in ex.ORGANISATIONS:
        url = delivery_url if oin == ex.LEERPLICHT else None
        options = recipient if oin == ex.LEERPLICHT else {}
        orgs[oin] = registry.add_organisation(oin, name, type_, delivery_url=url, **options)
    return Seeded(db, Sealer(keys.keyring, MESSAGES), orgs, AuditLog())


def store(seeded: Seeded, recipient: str = ex.LEERPLICHT, payload: dict | None = None) -> str:
    """An accepted message stored as the exchange service stores it (with its audit event)."""
    message_id, transaction_id = str(uuid.uuid4()), str(uuid.uuid4())
    now = system_clock()
    content = {"subject": {"bsn": ex.BSN}, "payload": payload or PAYLOAD}
    version, sealed = seeded.sealer.seal(message_id, content)
    legal_basis = {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"}
    sender, target = seeded.orgs[ex.SCHOOL], seeded.orgs[recipient]
    with seeded.db.write_session() as session:
        seeded.audit.append(
            session,
            AuditEvent(
                action="exchange.send", decision="allowed", actor_org=sender.oin,
                exchange_id=message_id, message_type="absence_report", sender=sender.oin,
                recipient=target.oin, purpose="leerplicht_enforcement", legal_basis=legal_basis,
                subject_ref="ref-" + message_id[:8], fsc_transaction_id=transaction_id,
            ),
            now,
        )
        session.execute(
            insert(Message),
            {
                "id": message_id, "message_type": "absence_report", "sender_org_id": sender.id,
                "recipient_org_id": target.id, "sender_client_id": "sis", "purpose":
                "leerplicht_enforcement", "legal_basis": legal_basis, "consent_id": None,
                "subject_ref": "ref-" + message_id[:8], "status": "accepted",
                "created_at": now, "fsc_transaction_id": transaction_id,
                "key_version": version, "ciphertext": sealed,
                "retain_until": now + timedelta(days=30),
            },
        )
    return message_id


# processes ----------------------------------------------------------------------------------
def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RecipientProcess:
    port: int
    process: subprocess.Popen | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def delivery_url(self) -> str:
        return f"{self.url}/thuiszitters/inbox"

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_stats", timeout=5).json()

    def control(self, **settings) -> dict:
        return requests.post(f"{self.url}/_control", json=settings, timeout=5).json()

    def last_request(self, message_id: str) -> dict:
        return requests.get(f"{self.url}/_requests/{message_id}", timeout=5).json()

    def start(self, jwks_url: str | None, oin: str = ex.LEERPLICHT) -> RecipientProcess:
        """``oin``: whom the recipient is (the push signature must name it)."""
        command = [sys.executable, "-m", "gateway.delivery.recipient", "--port", str(self.port)]
        if jwks_url:
            command += ["--jwks", jwks_url, "--oin", oin]
        self.process = subprocess.Popen(
            command, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_until(lambda: _port_open(self.port), 20, what="the recipient to listen")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def recipient(
    jwks_url: str | None = None, start: bool = True, oin: str = ex.LEERPLICHT
) -> RecipientProcess:
    """A recipient on a free port (the leerplicht office unless ``oin``); ``start=False``
    reserves the port but leaves it down."""
    found = RecipientProcess(free_port(), None)
    return found.start(jwks_url, oin) if start else found


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log: Path

    def kill9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(server, *args: str, env: dict | None = None, name: str = "") -> WorkerProcess:
    log = server.instance / f"worker-{name or uuid.uuid4().hex[:6]}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "worker", *args],
        env={**server.env, **(env or {})},
        cwd=server.instance,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return WorkerProcess(process, log)


def cli(server, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``server.cli`` with extra environment (e.g. delivery settings for one run)."""
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args], env={**server.env, **(env or {})},
        capture_output=True, text=True, timeout=120, cwd=server.instance,
    )
    assert result.returncode == 0, result.stderr
    return result


# gateways with push recipients -------------------------------------------------------------
def register_push_partners(server, folder: Path, delivery_url: str) -> dict[str, Partner]:
    """The demo organisations with real keys; the leerplicht office receives by push."""
    partners, organisations = {}, []
    for oin, name, type_ in ex.ORGANISATIONS:
        client_id = f"push-{type_}-{oin[-3:]}"
        key = ECKey.generate_key("P-256", parameters={"kid": f"{client_id}-1", "alg": "ES256"})
        partners[oin] = Partner(oin, type_, client_id, key, server.url)
        scopes = ["audit:read"] if type_ == "operator" else ALL_SCOPES
        organisations.append({
            "oin": oin, "name": name, "type": type_,
            "delivery_url": delivery_url if oin == ex.LEERPLICHT else None,
            "clients": [{"client_id": client_id, "auth": "private_key_jwt",
                         "jwks": {"keys": [key.as_dict(private=False)]}, "scopes": scopes}],
        })
    path = folder / "push-partners.yaml"
    path.write_text(json.dumps({"organisations": organisations}))
    server.cli("bootstrap", str(path))
    return partners


def absence_body(today: date | None = None) -> dict:
    return {
        "message_type": "absence_report",
        "recipient": ex.LEERPLICHT,
        "subject": {"bsn": ex.BSN},
        "payload": ex.absence_report(today or ex.today()),
    }


def send_many(partner: Partner, count: int, threads: int = 8) -> list[str]:
    """``count`` accepted absence reports from ``partner``; their exchange ids."""
    body = absence_body()
    token = partner.token()

    def send(_index: int) -> str:
        with requests.Session() as session:
            response = session.post(
                f"{partner.base_url}/api/v1/exchanges", json=body, timeout=30,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
            )
        assert response.status_code == 202, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(send, range(count)))


def audit_events(server, action: str | None = None) -> list[dict]:
    """Audit events straight from the server's database (SQLite or PostgreSQL)."""
    from sqlalchemy import text

    db = Database(server.env["GATEWAY_DATABASE_URL"])
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT canonical FROM audit_events ORDER BY seq"))
            found = [json.loads(row[0]) for row in rows]
    finally:
        db.dispose()
    return [e for e in found if action is None or e["action"] == action]


def message_rows(server) -> dict[str, dict]:
    """Delivery state of every stored message, by id."""
    from sqlalchemy import text

    db = Database(server.env["GATEWAY_DATABASE_URL"])
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, status, attempts, last_error, delivered_at, dead_lettered_at, "
                    "lease_token FROM messages"
                )
            ).mappings()
            return {row["id"]: dict(row) for row in rows}
    finally:
        db.dispose()


def assert_audit_chain(server) -> int:
    """Every stored event hashes to its ``hash``, links to the previous one, and ``seq`` has no
    gap; returns the number of events."""
    import hashlib

    from sqlalchemy import text

    db = Database(server.env["GATEWAY_DATABASE_URL"])
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT seq, canonical, hash FROM audit_events ORDER BY seq")
            ).all()
    finally:
        db.dispose()
    previous = "0" * 64
    for expected_seq, (seq, canonical, digest) in enumerate(rows, start=1):
        assert seq == expected_seq
        assert hashlib.sha256(canonical.encode()).hexdigest() == digest
        assert json.loads(canonical)["prev_hash"] == previous
        previous = digest
    return len(rows)


def metric(server, name: str, labels: str = "") -> float:
    """A sample from the gateway's ``/metrics`` (summed over processes), 0 when absent."""
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in requests.get(f"{server.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
