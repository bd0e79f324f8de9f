"""Audit log: appends per second (one writer, and four writer processes at once) and the time
to verify a log of 1,000,000 entries as a ratio to a bare loop, on SQLite (WAL) and on
PostgreSQL when ``GATEWAY_TEST_POSTGRES_URL`` is set. Prints one JSON object.

- Appends go through ``AuditLog.append`` exactly as the gateway writes them (one event per
  transaction, the head row lock, signed checkpoints at least every 100 events).
- The verify log is loaded in bulk (canonical bytes, hashes, tree nodes and a signed
  checkpoint every 100 entries, made with the gateway's own Merkle and note code), then
  :class:`gateway.audit.verify.ChainVerifier` checks it: hash of every entry, seq and
  prev_hash links, the leaves folded into the tree, every checkpoint's signature and root.
- The bare loop reads the same rows (``seq, canonical, hash``) with the raw driver
  (``sqlite3``, a psycopg server-side cursor) and chains SHA-256 over the stored bytes.
  Goal: verify at most 2x the bare loop. Medians of ``--runs``.

``--tiny`` (CI) makes everything small and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import rfc8785  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.support import postgres_database  # noqa: E402
from gateway.audit import merkle  # noqa: E402
from gateway.audit.checkpoints import checkpointer_for  # noqa: E402
from gateway.audit.log import AuditEvent, AuditLog, rfc3339  # noqa: E402
from gateway.audit.note import CheckpointBody  # noqa: E402
from gateway.audit.verify import ChainVerifier  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.keys import KeyStore  # noqa: E402
from gateway.storage import migrate  # noqa: E402
from gateway.storage.database import Database, is_sqlite  # noqa: E402

SCHOOL = "00000001001234567000"
LEERPLICHT = "00000001005678901000"
CHUNK = 10_000

WRITER = """
import sys, time
from datetime import UTC, datetime
sys.path.insert(0, sys.argv[4])
from bench.bench_audit import sample_event
from gateway.audit.checkpoints import checkpointer_for
from gateway.audit.log import AuditLog
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.storage.database import Database

url, keys_dir, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
db = Database(url)
log = AuditLog(checkpointer_for(KeyStore(keys_dir, allow_generate=False).audit_key,
                                Settings().base_url))
db.ping()
print("ready", flush=True)
sys.stdin.readline()
count, deadline = 0, time.monotonic() + seconds
while time.monotonic() < deadline:
    with db.write_session() as session:
        log.append(session, sample_event(count), datetime.now(UTC))
    count += 1
print(count, flush=True)
"""


def sample_event(number: int) -> AuditEvent:
    """An event of the size the gateway writes for an allowed exchange."""
    return AuditEvent(
        action="exchange.send",
        decision="allowed",
        actor_org=SCHOOL,
        actor_client_id="regenboog-sis",
        exchange_id=f"00000000-0000-4000-8000-{number:012d}",
        message_type="absence_report",
        sender=SCHOOL,
        recipient=LEERPLICHT,
        purpose="leerplicht_enforcement",
        legal_basis={"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"},
        fields_forwarded=["absence_type", "start_date", "unauthorised_hours_4_weeks",
                          "reason_category", "education_sector", "school_brin", "date_of_birth",
                          "grade", "contact", "remarks"],
        subject_ref="AbCdEfGhIjKlMnOpQrStUvWxYz012345678",
        fsc_transaction_id="0190f1c4-7a2b-7c3d-8e4f-5a6b7c8d9e0f",
    )


# appends -----------------------------------------------------------------------------------
def _checkpointer(keys_dir):
    return checkpointer_for(KeyStore(keys_dir, allow_generate=False).audit_key, Settings().base_url)


def appends_single(url: str, keys_dir: Path, seconds: float) -> float:
    db = Database(url)
    log = AuditLog(_checkpointer(keys_dir))
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        with db.write_session() as session:
            log.append(session, sample_event(count), datetime.now(UTC))
        count += 1
    elapsed = time.perf_counter() - started
    db.dispose()
    return count / elapsed


def appends_concurrent(url: str, keys_dir: Path, seconds: float, writers: int) -> float:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(keys_dir), str(seconds), str(REPO)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONPATH=str(REPO)),
        )
        for _ in range(writers)
    ]
    for process in processes:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("a writer did not start")
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    total = 0
    for process in processes:
        out, _ = process.communicate(timeout=seconds + 120)
        total += int(out.strip().splitlines()[-1])
    return total / seconds


def check_chain(url: str, keys_dir: Path) -> bool:
    db = Database(url)
    signer = _checkpointer(keys_dir).signer
    valid = ChainVerifier(db, signer.public_key).verify().valid
    db.dispose()
    return valid


def empty(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as connection:
        for table in ("audit_events", "audit_tree_nodes", "audit_checkpoints"):
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        connection.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})
    db.dispose()


# bulk loading the verify log ----------------------------------------------------------------
class Loader:
    """Writes ``n`` entries exactly as the log would hold them, in bulk through the driver."""

    def __init__(self, url: str, keys_dir: Path) -> None:
        self.url = url
        keys = KeyStore(keys_dir, allow_generate=False)
        self.signer = checkpointer_for(keys.audit_key, Settings().base_url).signer
        placeholder = sample_event(0)
        placeholder.exchange_id = "@@EXCHANGE@@"
        self.template = rfc8785.dumps(
            placeholder.document(987654321, datetime(2026, 1, 1, tzinfo=UTC), "p" * 64)
        ).decode()

    def entries(self, n: int):
        previous = "0" * 64
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for seq in range(1, n + 1):
            at = start + timedelta(milliseconds=seq)
            canonical = (
                self.template.replace('"seq":987654321', f'"seq":{seq}', 1)
                .replace("p" * 64, previous, 1)
                .replace("2026-01-01T00:00:00.000000Z", rfc3339(at), 1)
                .replace("@@EXCHANGE@@", f"00000000-0000-4000-8000-{seq:012d}", 1)
            )
            previous = hashlib.sha256(canonical.encode()).hexdigest()
            yield seq, at, canonical, previous

    def load(self, n: int) -> None:
        nodes: list[tuple[int, int, bytes]] = []
        compact = merkle.CompactRange(
            on_node=lambda level, index, value: nodes.append((level, index, value))
        )
        events, checkpoints, last_hash = [], [], "0" * 64
        connection = self._connect()
        for seq, at, canonical, digest in self.entries(n):
            events.append((seq, at, canonical, digest, f"00000000-0000-4000-8000-{seq:012d}"))
            compact.append(merkle.leaf_hash(canonical.encode()))
            last_hash = digest
            if seq % 100 == 0 or seq == n:
                stamp = rfc3339(at)
                root = compact.root()
                note = self.signer.sign(CheckpointBody(self.signer.name, seq, root, stamp))
                checkpoints.append((seq, root.hex(), at, self.signer.key_id.hex(), note))
            if len(events) >= CHUNK:
                self._write(connection, events, nodes, checkpoints)
                events, nodes, checkpoints = [], [], []
        self._write(connection, events, nodes, checkpoints)
        cursor = connection.cursor()
        cursor.execute(
            self._sql("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"), (n, last_hash)
        )
        connection.commit()
        connection.close()

    def _connect(self):
        if is_sqlite(self.url):
            import sqlite3

            return sqlite3.connect(self.url.removeprefix("sqlite:///"))
        import psycopg

        return psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"))

    def _sql(self, statement: str) -> str:
        return statement if is_sqlite(self.url) else statement.replace("?", "%s")

    def _write(self, connection, events, nodes, checkpoints) -> None:
        cursor = connection.cursor()
        if is_sqlite(self.url):
            stamp = "%Y-%m-%d %H:%M:%S.%f"
            events = [(s, a.strftime(stamp), c, h, x) for s, a, c, h, x in events]
            checkpoints = [(s, r, a.strftime(stamp), k, n) for s, r, a, k, n in checkpoints]
        cursor.executemany(self._sql(
            "INSERT INTO audit_events (seq, at, action, actor_org, sender, recipient, "
            "message_type, decision, canonical, hash, exchange_id) VALUES (?, ?, "
            f"'exchange.send', '{SCHOOL}', '{SCHOOL}', '{LEERPLICHT}', 'absence_report', "
            "'allowed', ?, ?, ?)"), events)
        cursor.executemany(self._sql(
            "INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)"), nodes)
        cursor.executemany(self._sql(
            "INSERT INTO audit_checkpoints (tree_size, root_hash, timestamp, key_id, note) "
            "VALUES (?, ?, ?, ?, ?)"), checkpoints)
        connection.commit()


# verifying --------------------------------------------------------------------------------
def bare_loop(url: str) -> tuple[float, str]:
    """Read (seq, canonical, hash) with the raw driver and chain SHA-256 over the bytes."""
    started = time.perf_counter()
    digest = b""
    sha256 = hashlib.sha256
    query = "SELECT seq, canonical, hash FROM audit_events ORDER BY seq"
    if is_sqlite(url):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        for _, canonical, _ in connection.execute(query):
            digest = sha256(digest + canonical.encode()).digest()
        connection.close()
    else:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
            with connection.cursor(name="bare") as cursor:
                cursor.itersize = 5000
                cursor.execute(query)
                for _, canonical, _ in cursor:
                    digest = sha256(digest + canonical.encode()).digest()
    return time.perf_counter() - started, digest.hex()


def verify_once(url: str, public_key: bytes) -> tuple[float, bool, int]:
    db = Database(url)
    started = time.perf_counter()
    report = ChainVerifier(db, public_key).verify()
    elapsed = time.perf_counter() - started
    db.dispose()
    return elapsed, report.valid, report.entries


def measure(name: str, url: str, keys_dir: Path, args) -> dict:
    db = Database(url)
    migrate.upgrade(db.engine)
    db.dispose()
    result: dict = {"backend": name}
    single, concurrent = [], []
    for _ in range(args.runs):
        empty(url)
        single.append(appends_single(url, keys_dir, args.seconds))
        empty(url)
        concurrent.append(appends_concurrent(url, keys_dir, args.seconds, 4))
        result["concurrent_chain_valid"] = check_chain(url, keys_dir)
    result["appends_per_second_single"] = round(statistics.median(single), 1)
    result["appends_per_second_4_writers"] = round(statistics.median(concurrent), 1)

    empty(url)
    loader = Loader(url, keys_dir)
    started = time.perf_counter()
    loader.load(args.entries)
    result["load_seconds"] = round(time.perf_counter() - started, 2)
    bare, verify = [], []
    for _ in range(args.runs):
        bare.append(bare_loop(url)[0])
        elapsed, valid, entries = verify_once(url, loader.signer.public_key)
        if not valid or entries != args.entries:
            raise RuntimeError("the loaded log did not verify")
        verify.append(elapsed)
    result.update(
        entries=args.entries,
        checkpoints=args.entries // 100 + (1 if args.entries % 100 else 0),
        bare_loop_seconds=round(statistics.median(bare), 3),
        verify_seconds=round(statistics.median(verify), 3),
        verify_to_bare_ratio=round(statistics.median(verify) / statistics.median(bare), 2),
    )
    empty(url)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="CI smoke run: tiny and fast")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if args.tiny:
        args.entries, args.seconds, args.runs = 2_000, 0.5, 1
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        workdir = Path(folder)
        keys_dir = workdir / "keys"
        KeyStore(keys_dir, allow_generate=True)
        results["sqlite"] = measure("sqlite", f"sqlite:///{workdir / 'audit.db'}", keys_dir, args)
        postgres = os.environ.get("GATEWAY_TEST_POSTGRES_URL")
        if postgres and not args.no_postgres:
            with postgres_database(postgres) as url:
                results["postgresql"] = measure("postgresql", url, keys_dir, args)
    print(json.dumps({
        "benchmark": "audit",
        "config": {"entries": args.entries, "append_seconds": args.seconds, "runs": args.runs,
                   "concurrent_writers": 4, "checkpoint_every": 100},
        "cpu_count": os.cpu_count(),
        "goal_verify_to_bare_ratio": 2.0,
        "results": results,
    }))


if __name__ == "__main__":
    main()
