"""Push deliveries per second with 1 and 2 ``gateway worker`` processes to a local recipient.

The recipient is the reference recipient (``gateway.delivery.recipient``) in its own process,
verifying every signature against the gateway's JWKS. The workers start first and idle; then
N messages appear in the outbox in one transaction (stored as the exchange service stores
them: sealed, each with its ``exchange.send`` audit event), and the clock runs until the
recipient has all N. Every push is a claim, a decrypt, a signature, an HTTP POST and a
transaction with its ``exchange.deliver`` audit event. SQLite (WAL) always, PostgreSQL too
when ``GATEWAY_TEST_POSTGRES_URL`` is set. Prints one JSON object; asserts no timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.support import free_port, postgres_database  # noqa: E402

SCHOOL = "00000001001234567000"
LEERPLICHT = "00000001005678901000"
OPERATOR = "00000001006789012000"
PAYLOAD = {
    "absence_type": "relative",
    "unauthorised_hours_4_weeks": 42,
    "reason_category": "unauthorised",
    "education_sector": "vo",
    "birth_year": 2011,
    "contact": {"name": "J. de Vries", "email": "j.devries@school.example.nl"},
}


def environment(url: str, instance: Path) -> dict:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "GATEWAY_ENV": "development",
        "GATEWAY_DATABASE_URL": url,
        "GATEWAY_INSTANCE_DIR": str(instance),
        "GATEWAY_KEYS_DIR": str(instance / "keys"),
        "GATEWAY_LOG_LEVEL": "ERROR",
    }


def gateway_cli(env: dict, instance: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        cwd=instance,
        check=True,
        capture_output=True,
    )


def prepare(env: dict, instance: Path, delivery_url: str) -> None:
    organisations = [
        {"oin": SCHOOL, "name": "Bench school", "type": "school", "clients": []},
        {
            "oin": LEERPLICHT,
            "name": "Bench leerplicht",
            "type": "leerplicht",
            "delivery_url": delivery_url,
            "clients": [],
        },
        {"oin": OPERATOR, "name": "Bench operator", "type": "operator", "clients": []},
    ]
    path = instance / "bootstrap.yaml"
    path.write_text(json.dumps({"organisations": organisations}))
    gateway_cli(env, instance, "keys", "init")
    gateway_cli(env, instance, "db", "upgrade")
    gateway_cli(env, instance, "bootstrap", str(path))


def fill(url: str, keys_dir: Path, count: int) -> None:
    """``count`` accepted messages for the push recipient, committed at once."""
    from sqlalchemy import insert, select

    from gateway.all_models import load_all_models
    from gateway.audit.log import AuditEvent, AuditLog
    from gateway.exchange.models import Message
    from gateway.keys import KeyStore
    from gateway.sealing import MESSAGES, Sealer
    from gateway.storage.database import Database
    from gateway.storage.models import Organisation

    load_all_models()
    db = Database(url)
    sealer = Sealer(KeyStore(keys_dir, allow_generate=False).keyring, MESSAGES)
    audit = AuditLog()
    legal_basis = {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"}
    now = datetime.now(UTC)
    with db.write_session() as session:
        ids = dict(session.execute(select(Organisation.oin, Organisation.id)).all())
        rows = []
        for _ in range(count):
            message_id, transaction = str(uuid.uuid4()), str(uuid.uuid4())
            version, sealed = sealer.seal(
                message_id, {"subject": {"pseudonym": "bench"}, "payload": PAYLOAD}
            )
            audit.append(
                session,
                AuditEvent(
                    action="exchange.send",
                    decision="allowed",
                    actor_org=SCHOOL,
                    exchange_id=message_id,
                    message_type="absence_report",
                    sender=SCHOOL,
                    recipient=LEERPLICHT,
                    purpose="leerplicht_enforcement",
                    legal_basis=legal_basis,
                    subject_ref="bench",
                    fsc_transaction_id=transaction,
                ),
                now,
            )
            rows.append(
                {
                    "id": message_id,
                    "message_type": "absence_report",
                    "sender_org_id": ids[SCHOOL],
                    "recipient_org_id": ids[LEERPLICHT],
                    "purpose": "leerplicht_enforcement",
                    "legal_basis": legal_basis,
                    "subject_ref": "bench",
                    "status": "accepted",
                    "created_at": now,
                    "fsc_transaction_id": transaction,
                    "key_version": version,
                    "ciphertext": sealed,
                    "retain_until": now + timedelta(days=30),
                }
            )
        session.execute(insert(Message), rows)
    db.dispose()


def count(recipient_url: str) -> int:
    with urllib.request.urlopen(f"{recipient_url}/_count", timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())["unique"]


def start(command: list[str], env: dict, cwd: Path, log: Path | None = None) -> subprocess.Popen:
    output = log.open("wb") if log else subprocess.DEVNULL
    return subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(logs: list[Path], timeout: float = 60) -> None:
    """Until every worker logged that its loop runs (imports and schema check done)."""
    deadline = time.monotonic() + timeout
    while not all(log.exists() and "worker ready" in log.read_text() for log in logs):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start")
        time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def one_run(url: str, env: dict, instance: Path, recipient_url: str, workers: int, args) -> dict:
    command = [sys.executable, "-m", "gateway.cli", "worker", "--poll", "0.05"]
    command += ["--batch", str(args.batch)]
    logs = [instance / f"worker-{uuid.uuid4().hex[:6]}.log" for _ in range(workers)]
    worker_env = dict(env, GATEWAY_LOG_LEVEL="INFO")  # the default: a line per push
    processes = [start(command, worker_env, instance, log) for log in logs]
    try:
        wait_ready(logs)
        time.sleep(args.warmup)
        before = count(recipient_url)
        fill(url, instance / "keys", args.messages)
        started = time.perf_counter()
        deadline = started + args.timeout
        while count(recipient_url) < before + args.messages:
            if time.perf_counter() > deadline:
                raise RuntimeError("deliveries did not finish in time")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            stop(process)
    return {"seconds": round(elapsed, 3), "per_s": args.messages / elapsed}


def measure(database: str, url: str, args, workdir: Path) -> dict:
    instance = workdir / database
    instance.mkdir()
    env = environment(url, instance)
    port = free_port()
    recipient_url = f"http://127.0.0.1:{port}"
    prepare(env, instance, f"{recipient_url}/inbox")
    from gateway.keys import KeyStore

    keys = KeyStore(instance / "keys", allow_generate=False)
    jwks = instance / "jwks.json"
    jwks.write_text(json.dumps({"keys": [k.public_jwk() for k in keys.push.active]}))
    recipient = start(
        [sys.executable, "-m", "gateway.delivery.recipient", "--port", str(port)]
        + ["--jwks-file", str(jwks), "--oin", LEERPLICHT],
        env,
        REPO,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                count(recipient_url)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        result = {}
        for workers in (1, 2):
            runs = [
                one_run(url, env, instance, recipient_url, workers, args) for _ in range(args.runs)
            ]
            result[f"workers_{workers}"] = {
                "deliveries_per_s": round(statistics.median(r["per_s"] for r in runs), 1),
                "runs_seconds": [r["seconds"] for r in runs],
            }
        one = result["workers_1"]["deliveries_per_s"]
        result["ratio_2_to_1"] = round(result["workers_2"]["deliveries_per_s"] / one, 3)
        return result
    finally:
        stop(recipient)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="CI smoke run: tiny and fast")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=0.5, help="idle seconds after start")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    if args.tiny:
        args.messages, args.runs = 30, 1
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as folder:
        workdir = Path(folder)
        results["sqlite"] = measure(
            "sqlite", f"sqlite:///{workdir / 'gateway.db'}", args, workdir
        )
        admin_url = os.environ.get("GATEWAY_TEST_POSTGRES_URL")
        if admin_url:
            with postgres_database(admin_url) as url:
                results["postgresql"] = measure("postgresql", url, args, workdir)
    print(
        json.dumps(
            {
                "benchmark": "push_delivery",
                "config": {
                    "messages": args.messages,
                    "runs": args.runs,
                    "batch": args.batch,
                    "tiny": args.tiny,
                    "recipient": "gateway.delivery.recipient (verifies every signature)",
                    "measured": "outbox commit of N messages -> recipient has all N",
                },
                "cpu_count": os.cpu_count(),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
