"""Four real processes append to one audit log at once: the chain stays valid and gap-free.

Each process appends in its own transactions for a fixed time (10 s on PostgreSQL, as the
issue asks; 3 s on SQLite); every seventh transaction is rolled back after its append, so a
sequence number taken and given back must not leave a gap. Afterwards every committed event
is in the log exactly once, ``seq`` runs 1..N, the verifier finds the chain and every signed
checkpoint valid, checkpoints are never more than 100 events apart, and proofs between them
verify with the independent RFC 9162 verifier. Two of the writers run the background
checkpoint signer beside their appends, as a gunicorn worker does.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.audit import tree
from gateway.audit.checkpoints import checkpointer_for
from gateway.audit.proofs import ProofService
from gateway.audit.verify import ChainVerifier
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.storage import migrate
from gateway.storage.database import Database
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.unit.gateway.audit.test_audit_rfc9162 import verify_consistency, verify_inclusion

REPO = Path(__file__).resolve().parents[2]
WRITERS = 4

WRITER = """
import json, sys, time
from datetime import UTC, datetime
from gateway.audit.checkpoints import checkpointer_for
from gateway.audit.log import AuditEvent, AuditLog
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.storage.database import Database

url, keys_dir, name, seconds = sys.argv[1:5]
db = Database(url)
log = AuditLog(checkpointer_for(KeyStore(keys_dir, allow_generate=False).audit_key, Settings().base_url))
committed, rolled_back, n = [], 0, 0
if name in ("w0", "w1"):  # two of the four sign behind, as gunicorn workers do (issue 23)
    log.checkpointer.start_background(db)
db.ping()
print("ready", flush=True)
sys.stdin.readline()  # everyone starts together
deadline = time.monotonic() + float(seconds)
while time.monotonic() < deadline:
    n += 1
    marker = f"{name}-{n}"
    event = AuditEvent(action="exchange.send", decision="allowed",
                       actor_org="00000001001234567000", exchange_id=marker)
    try:
        with db.write_session() as session:
            receipt = log.append(session, event, datetime.now(UTC))
            if n % 7 == 0:
                raise RuntimeError("rolled back on purpose")
        committed.append([marker, receipt.seq, receipt.hash])
    except RuntimeError:
        rolled_back += 1
log.checkpointer.stop_background()
db.dispose()
print(json.dumps({"committed": committed, "rolled_back": rolled_back}))
"""


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'concurrent.db'}", 3
        return
    if not POSTGRES_URL:
        pytest.skip("needs GATEWAY_TEST_POSTGRES_URL")
    url = create_postgres_database("gwaudit")
    yield url, 10
    drop_postgres_database(url)


def test_four_processes_append_concurrently(fresh_url, keys_dir):
    url, seconds = fresh_url
    db = Database(url)
    migrate.upgrade(db.engine)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(keys_dir), f"w{i}", str(seconds)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env, cwd=REPO)
        for i in range(WRITERS)
    ]
    for writer in writers:  # wait until every process has imported and connected
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    results = []
    for writer in writers:
        out, err = writer.communicate(timeout=seconds + 60)
        assert writer.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    committed = [entry for result in results for entry in result["committed"]]
    assert all(result["committed"] and result["rolled_back"] for result in results)

    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT seq, exchange_id, hash FROM audit_events ORDER BY seq")).all()
        head = connection.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar_one()
        sizes = [s for (s,) in connection.execute(text(
            "SELECT tree_size FROM audit_checkpoints ORDER BY tree_size"))]
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1)) and head == len(rows)
    assert sorted((m, s, h) for m, s, h in committed) == sorted(
        (marker, seq, digest) for seq, marker, digest in rows)
    assert len(rows) > 100 * WRITERS // 2, "the writers hardly wrote anything"

    checkpointer = checkpointer_for(KeyStore(keys_dir, allow_generate=False).audit_key, Settings().base_url)
    report = ChainVerifier(db, checkpointer.signer.public_key).verify()
    assert report.valid, report.as_dict()
    assert report.entries == len(rows) and report.invalid_checkpoints == []
    gaps = [b - a for a, b in zip([0, *sizes], sizes, strict=False)]
    assert sizes and max(gaps) <= 100 and len(rows) - sizes[-1] < 100

    proofs = ProofService(db, checkpointer)
    for first, second in zip(sizes[::7], sizes[1::7], strict=False):
        answer = proofs.consistency(first, second)
        assert verify_consistency(first, second, bytes.fromhex(answer["from_root"]),
                                  bytes.fromhex(answer["to_root"]),
                                  [bytes.fromhex(h) for h in answer["proof"]])
    for seq in (1, len(rows) // 2, sizes[-1]):
        answer = proofs.inclusion(seq, sizes[-1])
        with db.session() as session:
            canonical = session.execute(text("SELECT canonical FROM audit_events WHERE seq = :s"),
                                        {"s": seq}).scalar_one()
            assert tree.leaf(session, seq - 1).hex() == answer["leaf_hash"]
        leaf = hashlib.sha256(b"\x00" + canonical.encode()).digest()
        assert verify_inclusion(seq - 1, sizes[-1], leaf,
                                [bytes.fromhex(h) for h in answer["audit_path"]],
                                bytes.fromhex(answer["root_hash"]))
    db.dispose()
