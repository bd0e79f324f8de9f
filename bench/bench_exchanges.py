"""Full ``POST /api/v1/exchanges`` throughput under gunicorn, as a ratio to a bare Flask
endpoint that parses the same JSON and does one INSERT + COMMIT (same gunicorn settings, same
database, same run), on SQLite (WAL) and on PostgreSQL when ``GATEWAY_TEST_POSTGRES_URL`` is
set. Also p50/p99 latency at half of the measured peak. Prints one JSON object.

The load generator runs on the same 2-core machine as the servers, so absolute numbers are
low; the ratio is what is compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from http.client import HTTPConnection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.support import (  # noqa: E402
    bootstrap_partners,
    free_port,
    get_token,
    postgres_database,
    start_gunicorn,
    stop,
)

SCHOOL = "00000001001234567000"
LEERPLICHT = "00000001005678901000"


def absence_body() -> bytes:
    today = date.today()
    return json.dumps(
        {
            "message_type": "absence_report",
            "recipient": LEERPLICHT,
            "subject": {"bsn": "111222333"},
            "payload": {
                "absence_type": "relative",
                "start_date": (today - timedelta(days=30)).isoformat(),
                "unauthorised_hours_4_weeks": 42,
                "reason_category": "unauthorised",
                "education_sector": "vo",
                "school_brin": "12AB",
                "date_of_birth": (today - timedelta(days=14 * 366)).isoformat(),
                "contact": {"name": "J. de Vries", "email": "j.devries@school.example.nl"},
            },
        }
    ).encode()


def load(
    port: int,
    path: str,
    headers: dict,
    body: bytes,
    seconds: float,
    workers: int,
    rate: float | None = None,
) -> dict:
    """Closed-loop load (or paced at ``rate`` requests/s overall); keep-alive connections."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        nonlocal errors
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        interval = workers / rate if rate else 0.0
        next_at = time.perf_counter() + index * (interval / workers if rate else 0)
        mine, bad = [], 0
        while time.perf_counter() < deadline:
            if rate:
                pause = next_at - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                next_at += interval
            request_headers = dict(headers, **{"Idempotency-Key": uuid.uuid4().hex})
            started = time.perf_counter()
            connection.request("POST", path, body=body, headers=request_headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 202:
                bad += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / elapsed,
        "errors": errors,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
    }


def measure(database: str, url: str, args, workdir: Path) -> dict:
    instance = workdir / database
    instance.mkdir()
    gateway_port, bare_port = free_port(), free_port()
    env = {
        "GATEWAY_DATABASE_URL": url,
        "GATEWAY_BASE_URL": f"http://127.0.0.1:{gateway_port}",
        "GATEWAY_INSTANCE_DIR": str(instance),
        "GATEWAY_KEYS_DIR": str(instance / "keys"),
        "GATEWAY_LOG_LEVEL": "ERROR",
    }
    keys = bootstrap_partners(instance, env, [(SCHOOL, "school"), (LEERPLICHT, "leerplicht")])
    from bench.bare_table import create_table

    create_table(url)
    gateway = start_gunicorn("gateway.wsgi:app", gateway_port, env, instance, args.workers)
    bare = start_gunicorn(
        "bench.bare_app:app",
        bare_port,
        dict(env, BENCH_BARE_DATABASE_URL=url),
        instance,
        args.workers,
    )
    try:
        token = get_token(gateway_port, keys[SCHOOL])
        body = absence_body()
        full_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        bare_headers = {"Content-Type": "application/json"}
        load(gateway_port, "/api/v1/exchanges", full_headers, body, 1, args.clients)  # warm-up
        load(bare_port, "/bare", bare_headers, body, 1, args.clients)
        full_runs, bare_runs = [], []
        for _ in range(args.runs):
            bare_runs.append(
                load(bare_port, "/bare", bare_headers, body, args.seconds, args.clients)
            )
            full_runs.append(
                load(
                    gateway_port,
                    "/api/v1/exchanges",
                    full_headers,
                    body,
                    args.seconds,
                    args.clients,
                )
            )
        full = statistics.median(r["per_s"] for r in full_runs)
        baseline = statistics.median(r["per_s"] for r in bare_runs)
        half = load(
            gateway_port,
            "/api/v1/exchanges",
            full_headers,
            body,
            args.seconds,
            args.clients,
            rate=full / 2,
        )
        return {
            "exchanges_per_s": round(full, 1),
            "bare_per_s": round(baseline, 1),
            "ratio": round(full / baseline, 3) if baseline else None,
            "errors": sum(r["errors"] for r in full_runs + bare_runs) + half["errors"],
            "at_half_peak": {
                "rate_per_s": round(full / 2, 1),
                "p50_ms": round(half["p50_ms"], 2) if half["p50_ms"] else None,
                "p99_ms": round(half["p99_ms"], 2) if half["p99_ms"] else None,
            },
        }
    finally:
        stop(gateway)
        stop(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="CI smoke run: tiny and fast")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.tiny:
        args.seconds, args.runs, args.clients = 0.5, 1, 2
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-exchanges-") as folder:
        workdir = Path(folder)
        results["sqlite"] = measure("sqlite", f"sqlite:///{workdir / 'bench.db'}", args, workdir)
        postgres = os.environ.get("GATEWAY_TEST_POSTGRES_URL")
        if postgres:
            with postgres_database(postgres) as url:
                results["postgresql"] = measure("postgresql", url, args, workdir)
    print(
        json.dumps(
            {
                "benchmark": "exchanges",
                "config": {
                    "seconds": args.seconds,
                    "runs": args.runs,
                    "clients": args.clients,
                    "gunicorn_workers": args.workers,
                    "threads_per_worker": 4,
                },
                "cpu_count": os.cpu_count(),
                "goal_ratio": 0.5,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
