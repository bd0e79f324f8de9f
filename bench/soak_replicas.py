"""The audit under a steady send rate on two replicas (issue 23's soak): two gateway replicas
(gunicorn, two workers each, the shipped settings, so each worker runs its background
checkpoint signer) on one fresh PostgreSQL database, an open-loop 100 sends/s split between
them for ``--minutes`` (10 by default), then the audit is checked:

- ``seq`` runs 1..n without a gap, and every 202's ``audit`` {``seq``, ``hash``} is the stored
  event of its exchange;
- the chain and every signed checkpoint verify (:class:`gateway.audit.verify.ChainVerifier`),
  checkpoints are never more than 100 events apart and the last one at most 100 behind;
- consistency proofs between consecutive checkpoints and inclusion proofs of sampled events
  verify with the independent RFC 9162 verifier of the tests.

Latency per minute and replica (p50/p99, open loop from the intended send time) is reported
beside it. Prints one JSON object; exits non-zero when a check fails.

    GATEWAY_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/soak_replicas.py --minutes 10
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import openloop  # noqa: E402
from bench.bench_wrk import LEERPLICHT, SCHOOL, SEND_PATH, bodies, ready  # noqa: E402
from bench.support import (  # noqa: E402
    bootstrap_partners,
    free_port,
    get_token,
    postgres_database,
    start_gunicorn,
    stop,
)

CHUNK_SECONDS = 60.0  # a fresh token per chunk: tokens live 300 s


def _send_chunk(ports, token, body_list, rate, seconds, answers, lock, offset):
    """``rate`` sends/s for ``seconds``, split evenly over the replicas, at once."""
    results = {}

    def one(port):
        run_id = uuid.uuid4().hex[:12]

        def request(i: int) -> bytes:
            return openloop.http_request(
                "POST",
                SEND_PATH,
                {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": f"{run_id}-{i}",
                },
                body_list[(offset + i) % len(body_list)].encode(),
            )

        def collect(status: int, body: bytes) -> None:
            if status == 202:
                with lock:
                    answers.append(json.loads(body))

        results[port] = openloop.run(
            "127.0.0.1", port, request, rate / len(ports), seconds, on_answer=collect
        )

    threads = [threading.Thread(target=one, args=(port,)) for port in ports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _check_audit(url: str, keys_dir: Path, base_url: str, answers: list[dict]) -> dict:
    from sqlalchemy import text

    from gateway.audit.checkpoints import checkpointer_for
    from gateway.audit.proofs import ProofService
    from gateway.audit.verify import ChainVerifier
    from gateway.keys import KeyStore
    from gateway.storage.database import Database
    from tests.unit.gateway.audit.test_audit_rfc9162 import verify_consistency, verify_inclusion

    db = Database(url)
    checkpointer = checkpointer_for(KeyStore(keys_dir, allow_generate=False).audit_key, base_url)
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT seq, exchange_id, hash, canonical FROM audit_events ORDER BY seq")
        ).all()
        sizes = [s for (s,) in connection.execute(
            text("SELECT tree_size FROM audit_checkpoints ORDER BY tree_size"))]
    seqs = [row[0] for row in rows]
    by_seq = {row[0]: row for row in rows}
    mismatched = [
        answer["id"] for answer in answers
        if by_seq.get(answer["audit"]["seq"]) is None
        or by_seq[answer["audit"]["seq"]][1] != answer["id"]
        or by_seq[answer["audit"]["seq"]][2] != answer["audit"]["hash"]
    ]
    report = ChainVerifier(db, checkpointer.signer.public_key).verify()
    gaps = [b - a for a, b in zip([0, *sizes], sizes, strict=False)]
    proofs = ProofService(db, checkpointer)
    consistency_ok = all(
        verify_consistency(a, b, bytes.fromhex(p["from_root"]), bytes.fromhex(p["to_root"]),
                           [bytes.fromhex(h) for h in p["proof"]])
        for a, b in zip(sizes, sizes[1:], strict=False)
        for p in [proofs.consistency(a, b)]
    )
    inclusion_ok = True
    for seq in sorted({1, len(rows) // 3, len(rows) // 2, sizes[-1] if sizes else 1}):
        if not sizes or seq > sizes[-1] or seq < 1:
            continue
        answer = proofs.inclusion(seq, sizes[-1])
        leaf = hashlib.sha256(b"\x00" + by_seq[seq][3].encode()).digest()
        inclusion_ok &= verify_inclusion(
            seq - 1, sizes[-1], leaf, [bytes.fromhex(h) for h in answer["audit_path"]],
            bytes.fromhex(answer["root_hash"]))
    db.dispose()
    checks = {
        "seq_gap_free": seqs == list(range(1, len(seqs) + 1)),
        "every_202_matches_its_event": not mismatched,
        "chain_and_checkpoints_verify": report.valid and not report.invalid_checkpoints,
        "checkpoints_at_most_100_apart": bool(sizes) and max(gaps) <= 100
        and len(rows) - sizes[-1] <= 100,
        "consistency_proofs_verify": consistency_ok,
        "inclusion_proofs_verify": bool(inclusion_ok),
    }
    return {
        "events": len(rows),
        "answers_202": len(answers),
        "checkpoints": len(sizes),
        "largest_checkpoint_gap": max(gaps) if gaps else None,
        "mismatched": mismatched[:10],
        "checks": checks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="sends/s over both replicas")
    parser.add_argument("--workers", type=int, default=2, help="per replica")
    args = parser.parse_args()
    admin = os.environ.get("GATEWAY_TEST_POSTGRES_URL",
                           "postgresql://postgres@127.0.0.1:5432/test")
    answers: list[dict] = []
    lock = threading.Lock()
    minutes = []
    with tempfile.TemporaryDirectory(prefix="soak-replicas-") as folder, \
            postgres_database(admin) as url:
        instance = Path(folder)
        ports = [free_port(), free_port()]
        base_url = f"http://127.0.0.1:{ports[0]}"  # one gateway behind a balancer: one name
        env = {
            "GATEWAY_DATABASE_URL": url,
            "GATEWAY_BASE_URL": base_url,
            "GATEWAY_INSTANCE_DIR": str(instance),
            "GATEWAY_KEYS_DIR": str(instance / "keys"),
            "GATEWAY_LOG_LEVEL": "WARNING",
        }
        keys = bootstrap_partners(instance, env, [(SCHOOL, "school"), (LEERPLICHT, "leerplicht")])
        replicas = [
            start_gunicorn("gateway.wsgi:app", port, env, instance, args.workers,
                           log_path=instance / f"replica-{port}.log")
            for port in ports
        ]
        try:
            for port in ports:
                ready(port, "/readyz")
            body_list = bodies(512)
            deadline = time.monotonic() + args.minutes * 60
            offset = 0
            while time.monotonic() < deadline:
                seconds = min(CHUNK_SECONDS, max(1.0, deadline - time.monotonic()))
                token = get_token(ports[0], keys[SCHOOL])
                runs = _send_chunk(ports, token, body_list, args.rate, seconds, answers, lock,
                                   offset)
                offset += int(args.rate * seconds)
                minutes.append({
                    str(port): {k: run[k] for k in ("sent", "ok", "errors", "failures",
                                                     "p50_ms", "p99_ms", "late_ms_p99")}
                    for port, run in runs.items()
                })
        finally:
            for replica in replicas:
                stop(replica)
        audit = _check_audit(url, instance / "keys", base_url, answers)
    sent = sum(run["sent"] for minute in minutes for run in minute.values())
    errors = sum(run["errors"] + run["failures"] for minute in minutes for run in minute.values())
    result = {
        "benchmark": "soak_replicas",
        "config": {"minutes": args.minutes, "rate_per_s": args.rate, "replicas": 2,
                   "workers_per_replica": args.workers},
        "sent": sent,
        "errors": errors,
        "per_minute": minutes,
        "audit": audit,
        "passed": errors == 0 and all(audit["checks"].values()),
    }
    print(json.dumps(result))
    if not result["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
