"""Drill: restoring a database backup below a checkpoint partners already hold (issue 19).

A real gateway (gunicorn, two workers) on a private PostgreSQL cluster takes exchanges and
publishes a checkpoint (verify); the database is backed up with ``pg_dump`` (custom format);
more exchanges arrive and a newer checkpoint is published (the checkpoint endpoint and a
proof), which the school keeps. The gateway is stopped, the backup restored with ``pg_restore
--clean`` and the gateway started again, as docs/drills.md "Restore from backup" tells an
operator. Then, over HTTP with real tokens:

- proofs and consistency proofs answer 503 ``audit_log_rewound`` (problem+json);
- the checkpoint endpoint shows the gap (the published size and root, the log's size now)
  and no checkpoint; verify answers invalid and names the gap, without a checkpoint;
- the log holds exactly one ``audit.gap_detected`` event, however often the gap was seen.

``gateway audit acknowledge-gap --reason`` then records ``audit.gap_acknowledged``, signs the
head and moves the witness: proofs are given again (and verify with the RFC 9162 verifier of
the unit tests), verify is valid, the checkpoint endpoint lists the acknowledged rewind, and
a second acknowledgement is refused because there is no gap.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time

import pytest
import requests

from gateway.audit.witness import WITNESS_FILE
from tests import drill_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners
from tests.unit.gateway.audit.test_audit_rfc9162 import verify_inclusion

pytestmark = pytest.mark.skipif(not dh.postgres_available(), reason="needs PostgreSQL 15 initdb")


@pytest.fixture
def gateway(tmp_path, keys_dir):
    postgres = dh.ThrowawayPostgres()
    servers = []
    try:
        postgres.start()
        shutil.copytree(keys_dir, tmp_path / "keys")
        (tmp_path / "keys" / WITNESS_FILE).unlink(missing_ok=True)  # this drill's log only
        servers.append(
            start_server(tmp_path, tmp_path / "keys", {"GATEWAY_DATABASE_URL": postgres.url})
        )
        yield servers, postgres, register_partners(servers[0], tmp_path)
    finally:
        for server in servers:
            stop_server(server.process)
        postgres.destroy()


def pg(tool: str, postgres: dh.ThrowawayPostgres, *args: str) -> None:
    """``pg_dump`` / ``pg_restore`` over TCP as the cluster's superuser (trust auth)."""
    result = subprocess.run(
        [str(dh.PG_BIN / tool), "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres",
         *args],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"{tool} failed:\n{result.stdout}\n{result.stderr}"


def send(school, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = school.send("absence_report", ex.LEERPLICHT, ex.absence_report(ex.today()))
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def get(partner, path: str, **params) -> requests.Response:
    return requests.get(f"{partner.base_url}{path}", headers=partner.headers(), params=params,
                        timeout=30)


def own_seq(partner) -> int:
    """The newest audit entry the partner may see (its own send)."""
    items = get(partner, "/api/v1/audit/events", limit="500").json()["items"]
    return max(item["seq"] for item in items if item["action"] == "exchange.send")


def events(operator, action: str) -> list[dict]:
    response = get(operator, "/api/v1/audit/events", action=action, limit="500")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def assert_rewound(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "audit_log_rewound"


def test_restore_below_a_published_checkpoint(gateway, tmp_path):
    servers, postgres, partners = gateway
    started = time.monotonic()
    school, operator = partners[ex.SCHOOL], partners[ex.OPERATOR]

    send(school, 4)
    verified = get(operator, "/api/v1/audit/verify").json()
    assert verified["valid"] and verified["checkpoint"]

    backup = tmp_path / "gateway.dump"
    pg("pg_dump", postgres, "-Fc", "-d", "postgres", "-f", str(backup))
    backed_up = int(postgres.query("SELECT seq FROM audit_head"))

    send(school, 4)
    held = get(school, f"/api/v1/audit/proof/{own_seq(school)}")
    assert held.status_code == 200, held.text
    published = get(school, "/api/v1/audit/checkpoint").json()
    assert published["gap"] is None and published["rewinds"] == []
    newest = published["checkpoint"]
    assert newest["tree_size"] > backed_up
    witness = json.loads((tmp_path / "keys" / WITNESS_FILE).read_text())
    assert witness["checkpoint"]["tree_size"] == newest["tree_size"]

    # the incident: stop the gateway, restore the backup, start the gateway again
    stop_server(servers[0].process)
    pg("pg_restore", postgres, "--clean", "--if-exists", "--no-owner", "-d", "postgres",
       str(backup))
    assert int(postgres.query("SELECT seq FROM audit_head")) == backed_up
    servers.append(dh.restart_server(servers[0]))
    school._tokens.clear()  # the restored database has no record of the tokens issued since
    operator._tokens.clear()

    seq = own_seq(school)
    assert seq <= backed_up
    assert_rewound(get(school, f"/api/v1/audit/proof/{seq}"))
    assert_rewound(get(operator, f"/api/v1/audit/proof/{seq}"))
    first = verified["checkpoint"]["tree_size"]
    assert_rewound(get(school, "/api/v1/audit/consistency", from_size=first,
                       to_size=first))
    assert requests.get(f"{school.base_url}/api/v1/audit/checkpoint", timeout=10).status_code \
        == 401  # partners with audit:read only
    shown = get(school, "/api/v1/audit/checkpoint")
    assert shown.status_code == 200, shown.text
    gap = shown.json()["gap"]
    assert shown.json()["checkpoint"] is None
    assert gap["kind"] == "rewound"
    assert (gap["published_size"], gap["published_root"]) == (
        newest["tree_size"], newest["root_hash"])
    assert backed_up <= gap["log_size"] < newest["tree_size"]
    answer = get(operator, "/api/v1/audit/verify").json()
    assert answer["valid"] is False and answer["checkpoint"] is None
    assert str(newest["tree_size"]) in answer["problem"]

    detected = events(operator, "audit.gap_detected")
    assert len(detected) == 1, detected
    assert detected[0]["reason"].startswith(
        f"published checkpoint {newest['tree_size']} {newest['root_hash']}")
    assert detected[0]["actor"]["org"] is None
    assert "audit log rewound" in (tmp_path / "server-restarted.log").read_text()

    # the operator acknowledges; proofs come back
    done = servers[-1].cli("audit", "acknowledge-gap", "--reason",
                           "Restore drill: database restored from the backup of 02:00")
    assert "gap acknowledged" in done.stderr
    proof = get(school, f"/api/v1/audit/proof/{seq}")
    assert proof.status_code == 200, proof.text
    body = proof.json()
    assert verify_inclusion(body["leaf_index"], body["tree_size"],
                            bytes.fromhex(body["leaf_hash"]),
                            [bytes.fromhex(h) for h in body["audit_path"]],
                            bytes.fromhex(body["root_hash"]))
    answer = get(operator, "/api/v1/audit/verify").json()
    assert answer["valid"] is True and answer["checkpoint"], answer
    after = get(school, "/api/v1/audit/checkpoint").json()
    assert after["gap"] is None and after["checkpoint"]
    (rewind,) = after["rewinds"]
    assert (rewind["published_size"], rewind["published_root"]) == (
        newest["tree_size"], newest["root_hash"])
    # the log's size when acknowledged; the acknowledgement is the next entry, then signed
    assert gap["log_size"] <= rewind["log_size"] < rewind["new_checkpoint_size"]
    assert rewind["new_checkpoint_size"] <= after["checkpoint"]["tree_size"]
    root = base64.b64encode(bytes.fromhex(after["checkpoint"]["root_hash"])).decode()
    assert root in after["checkpoint"]["note"]

    assert len(events(operator, "audit.gap_detected")) == 1
    (acknowledged,) = events(operator, "audit.gap_acknowledged")
    assert "Restore drill" in acknowledged["reason"]
    assert acknowledged["actor"]["user"] == "gateway audit acknowledge-gap"
    again = servers[-1].cli("audit", "acknowledge-gap", "--reason", "twice", check=False)
    assert again.returncode == 1 and "no gap" in again.stderr
    assert dh.cli_audit_verify(servers[-1])["valid"]
    assert time.monotonic() - started < 60
