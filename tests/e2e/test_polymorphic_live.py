"""Polymorphic mode end to end: a real gunicorn server, the real CLI, the partner client library.

A school and a GGD are registered through a bootstrap file, the key issuer runs through
``gateway keys pep-issue`` with its own directory, and the partner example script of
``clients/python`` (what a partner developer runs) makes the whole conversation: consent,
referral, decryption by the GGD, reply by the GGD's pseudonym, decryption by the school.
Then the evidence that the gateway never had the BSN: not in the audit log, the database,
the server log, nor anywhere in the memory of the server's processes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from joserfc.jwk import ECKey

from pseudonymise import is_valid_bsn
from pseudonymise.pep import KeyIssuer
from pseudonymise.pep.elgamal import decode_base64
from tests import pep_helpers as pep
from tests.e2e.conftest import start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
SCHOOL = "00000001001234567000"
GGD = "00000001003456789000"
OPERATOR = "00000001006789012000"
PARTNERS = [(SCHOOL, "school", "regenboog-sis"), (GGD, "ggd", "ggd-jgz"),
            (OPERATOR, "operator", "operator-console")]
SCOPES = "[exchange:send, exchange:receive, consent:write, consent:read, signal:write, audit:read]"


def fresh_bsn() -> str:
    """A valid BSN drawn for this run only, so that finding it anywhere means it leaked."""
    rng = random.SystemRandom()
    while True:
        value = f"{rng.randrange(10**8, 10**9):09d}"
        if is_valid_bsn(value) and value not in ("111222333", "123456782"):
            return value


@pytest.fixture(scope="module")
def world(tmp_path_factory, keys_dir):
    root = tmp_path_factory.mktemp("pep-live")
    instance = root / "instance"
    instance.mkdir()
    shutil.copytree(keys_dir, instance / "keys")
    lines = ["organisations:"]
    for oin, type_, client_id in PARTNERS:
        key = ECKey.generate_key("P-256", parameters={"kid": f"{client_id}-1", "alg": "ES256",
                                                      "use": "sig"})
        (root / f"{client_id}.private.jwk.json").write_text(json.dumps(key.as_dict(private=True)))
        (root / f"{client_id}.jwks.json").write_text(
            json.dumps({"keys": [key.as_dict(private=False)]})
        )
        lines += [
            f'  - oin: "{oin}"', f"    name: {type_} {oin[-6:]}", f"    type: {type_}",
            "    polymorphic: true", "    clients:", f"      - client_id: {client_id}",
            "        auth: private_key_jwt", f"        jwks_file: {root / (client_id + '.jwks.json')}",
            f"        scopes: {SCOPES}",
        ]
    (root / "bootstrap.yaml").write_text("\n".join(lines) + "\n")
    server = start_server(instance, instance / "keys")
    server.cli("bootstrap", str(root / "bootstrap.yaml"))
    issued = server.cli("keys", "pep-issue", "--issuer-dir", str(root / "issuer")).stdout
    assert "issued for 3 organisation(s); key shares sealed for 3 client(s)" in issued
    document = json.loads((root / "issuer" / "issuer.json").read_text())
    issuer = KeyIssuer(*(decode_base64(document[name], 32)
                         for name in ("master", "link", "reshuffle", "rekey")))
    yield server, root, issuer
    stop_server(server.process)


def run_example(server, root, bsn: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO / "clients" / "python")}
    result = subprocess.run(
        [sys.executable, str(REPO / "clients/python/examples/polymorphic_exchange.py"),
         "--base-url", server.url,
         "--school-client-id", "regenboog-sis", "--school-key",
         str(root / "regenboog-sis.private.jwk.json"),
         "--ggd-client-id", "ggd-jgz", "--ggd-key", str(root / "ggd-jgz.private.jwk.json"),
         "--ggd-oin", GGD, "--bsn", bsn],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert bsn not in result.stdout + result.stderr
    return json.loads(result.stdout)


def process_group(pid: int) -> list[int]:
    """The server's processes: gunicorn's master and its workers share the session's group."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pid:  # pgrp
                members.append(int(entry.name))
    return members


def memory_contains(pid: int, needle: bytes) -> bool:
    """Whether any readable, writable mapping of the process holds ``needle`` right now."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as memory:
        for line in maps:
            address, perms = line.split()[:2]
            if not perms.startswith("rw"):
                continue
            start, end = (int(part, 16) for part in address.split("-"))
            try:
                memory.seek(start)
                if needle in memory.read(end - start):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


def test_school_sends_ggd_decrypts_and_replies_by_its_pseudonym(world):
    server, root, issuer = world
    bsn = fresh_bsn()
    first = run_example(server, root, bsn)
    again = run_example(server, root, bsn)
    # what each side decrypted is its own domain pseudonym, computed here from the issuer
    assert first["ggd_pseudonym"] == pep.expected_pseudonym(issuer, bsn, GGD)
    assert first["school_pseudonym"] == pep.expected_pseudonym(issuer, bsn, SCHOOL)
    assert first["ggd_pseudonym"] != first["school_pseudonym"]
    assert (again["ggd_pseudonym"], again["school_pseudonym"]) == (
        first["ggd_pseudonym"], first["school_pseudonym"])
    assert first["advice_payload"]["in_reply_to"] == first["referral"]
    other = run_example(server, root, fresh_bsn())
    assert other["ggd_pseudonym"] != first["ggd_pseudonym"]


def test_the_gateway_never_had_the_bsn(world):
    server, root, _ = world
    bsn = fresh_bsn()
    run_example(server, root, bsn)
    needle = bsn.encode("ascii")
    # the audit log as the operator exports it
    token = operator_token(server, root)
    export = requests.get(f"{server.url}/api/v1/audit/export", params={"format": "jsonl"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert export.status_code == 200
    events = [json.loads(line) for line in export.text.splitlines()]
    sends = [e for e in events if e["action"] == "exchange.send" and e["decision"] == "allowed"]
    assert len(sends) >= 2 and all(e["subject_ref"] for e in sends)
    assert needle not in export.content
    # the database and the log files
    for path in server.instance.rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), path.name
    # every process of the server, now, after handling the requests
    pids = process_group(server.process.pid)
    assert len(pids) >= 3  # master and two workers
    for pid in pids:
        assert not memory_contains(pid, needle), f"BSN found in process {pid}"
    # the scanner works: this test process holds the BSN
    assert memory_contains(os.getpid(), needle)


def operator_token(server, root, client_id: str = "operator-console") -> str:
    import time
    import uuid

    from joserfc import jwt

    key = ECKey.import_key(json.loads((root / f"{client_id}.private.jwk.json").read_text()))
    now = int(time.time())
    assertion = jwt.encode(
        {"alg": "ES256", "kid": key.kid},
        {"iss": client_id, "sub": client_id, "aud": f"{server.url}/oauth/token",
         "jti": uuid.uuid4().hex, "iat": now, "exp": now + 120},
        key,
    )
    response = requests.post(f"{server.url}/oauth/token", data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_memory_scan_sees_a_bsn_that_was_sent(world):
    """The control for the test above, on the same server: a BSN that *was* sent (a refused
    BSN-mode request, so nothing is stored) is found in a worker's memory right after."""
    server, root, _ = world
    bsn = fresh_bsn()
    token = operator_token(server, root, "regenboog-sis")
    for _ in range(3):
        response = requests.post(
            f"{server.url}/api/v1/exchanges",
            json={"message_type": "sickness_absence_referral", "recipient": GGD,
                  "subject": {"bsn": bsn}, "payload": {}},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": os.urandom(8).hex()},
            timeout=10,
        )
        assert response.status_code == 422
    pids = process_group(server.process.pid)
    assert any(memory_contains(pid, bsn.encode("ascii")) for pid in pids)
