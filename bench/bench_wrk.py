"""The send path against its physical limit, measured with wrk (issue 23): the primary instrument.

For SQLite (WAL) and, when ``GATEWAY_TEST_POSTGRES_URL`` is set, PostgreSQL, in one run:

- **throughput**: wrk (a C load generator; 2 threads, 16 connections, 10 s) against the full
  ``POST /api/v1/exchanges`` and against the bare Flask endpoint of ``bench/bare_app.py`` (parse
  the JSON, one INSERT + COMMIT), both under the same gunicorn settings
  (``gateway.gunicorn_conf``: 2 workers x 4 threads), alternating bare/full, median of 3; the
  ratio full/bare is the figure. ``bench/wrk_requests.lua`` gives every request its own
  ``Idempotency-Key`` and the next of a set of valid bodies (different BSNs), so each is a fresh
  send, never an idempotent replay;
- **latency at fixed rates** (50, 100, 150 sends/s): ``bench/openloop.py``, an open-loop
  generator (constant arrival rate, latency from each request's intended send time, so
  coordinated omission is corrected; its docstring says why not wrk's ``delay()``); full and
  bare at the same rate, alternating, median of 3 of each p50 and p99, each run after a
  warm-up second at the same rate that is not counted (``--warmup-seconds``);
- **protected GET**: wrk against ``GET /api/v1/me`` (a bearer token: verification plus the
  token check) and the unprotected ``GET /healthz``, median of 3, ratio.

The gateway logs at INFO (its access log on, as in production) into a file. A fresh token is
fetched before every run (tokens live 300 s). The machine's load average is recorded before
each section: figures taken while other work shares the two cores are noisy even as ratios.
Prints one JSON object (``bench/run_all.py`` stores it in ``bench/results.json``).

Re-measure on a quiet machine with::

    GATEWAY_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/run_all.py --only bench_wrk
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from http.client import HTTPConnection
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from bench import cpu, openloop  # noqa: E402
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
SCRIPT = BENCH / "wrk_requests.lua"
SEND_PATH = "/api/v1/exchanges"
BARE_PATH = "/bare"
GOALS = {
    "send_to_bare_ratio": 0.6,
    "postgresql_100_per_s_p50_over_bare_ms": 2.0,
    "postgresql_100_per_s_p99_over_bare_ms": 5.0,
    "protected_get_ratio": 0.9,
}


def ready(port: int, path: str, method: str = "GET", seconds: float = 180) -> None:
    """Wait until both workers could have booted: gunicorn listens before its workers have
    imported the app, which takes long on a busy machine."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request(method, path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers {path} on port {port}")
        time.sleep(0.5)


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def bsn(rng: random.Random) -> str:
    """A random nine-digit number that passes the elfproef (never a real person's on purpose:
    these go into a throw-away benchmark database only)."""
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        last = total % 11
        if last < 10 and digits[0] != 0:
            return "".join(map(str, digits)) + str(last)


def bodies(count: int, seed: int = 23) -> list[str]:
    """``count`` valid absence reports (bench_exchanges.py's body), each for another child."""
    rng = random.Random(seed)
    today = date.today()
    out = []
    for _ in range(count):
        out.append(
            json.dumps(
                {
                    "message_type": "absence_report",
                    "recipient": LEERPLICHT,
                    "subject": {"bsn": bsn(rng)},
                    "payload": {
                        "absence_type": "relative",
                        "start_date": (today - timedelta(days=rng.randrange(7, 60))).isoformat(),
                        "unauthorised_hours_4_weeks": rng.randrange(16, 80),
                        "reason_category": "unauthorised",
                        "education_sector": "vo",
                        "school_brin": "12AB",
                        "date_of_birth": (today - timedelta(days=14 * 366)).isoformat(),
                        "contact": {"name": "J. de Vries", "email": "j.devries@school.example.nl"},
                    },
                },
                separators=(",", ":"),
            )
        )
    return out


def wrk(port: int, path: str, bodies_file: str, token: str, args) -> dict:
    """One wrk run; its Lua ``done()`` prints the JSON line read here."""
    command = [
        args.wrk,
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={args.seconds}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        f"http://127.0.0.1:{port}",
        "--",
        path,
        bodies_file,
        uuid.uuid4().hex[:12],
        token,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    line = [text for text in result.stdout.splitlines() if text.startswith("{")][-1]
    answer = json.loads(line)
    seconds = answer["duration_us"] / 1e6
    errors = sum(answer[k] for k in ("connect_errors", "read_errors", "write_errors"))
    return {
        "per_s": round(answer["requests"] / seconds, 1),
        "requests": answer["requests"],
        "errors": errors + answer["status_errors"] + answer["timeouts"],
        "p50_ms": round(answer["latency_us"]["p50"] / 1000, 2),
        "p99_ms": round(answer["latency_us"]["p99"] / 1000, 2),
    }


def _median(runs: list[dict], key: str) -> float | None:
    values = [run[key] for run in runs if run.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def throughput(gateway_port, bare_port, bodies_file, token_for, args) -> dict:
    full_runs, bare_runs = [], []
    for _ in range(args.runs):
        bare_runs.append(wrk(bare_port, BARE_PATH, bodies_file, "", args))
        full_runs.append(wrk(gateway_port, SEND_PATH, bodies_file, token_for(), args))
    full, bare = _median(full_runs, "per_s"), _median(bare_runs, "per_s")
    return {
        "exchanges_per_s": full,
        "bare_per_s": bare,
        "ratio": round(full / bare, 3) if bare else None,
        "errors": sum(run["errors"] for run in full_runs + bare_runs),
        "runs": {"full": full_runs, "bare": bare_runs},
    }


def fixed_rates(gateway_port, bare_port, body_list, token_for, args, groups=None) -> dict:
    """``groups``: the process groups of the gateway and the bare server, whose CPU per
    request is measured during each counted run (:mod:`bench.cpu`)."""
    out = {}
    for rate in args.rates:
        full_runs, bare_runs = [], []
        full_cpu, bare_cpu = [], []
        for _ in range(args.runs):
            run_id = uuid.uuid4().hex[:12]

            def bare_request(i: int, run_id=run_id) -> bytes:
                return openloop.http_request(
                    "POST",
                    BARE_PATH,
                    {"Content-Type": "application/json", "Idempotency-Key": f"{run_id}-{i}"},
                    body_list[i % len(body_list)].encode(),
                )

            meter = cpu.Meter(groups[1]) if groups else None
            bare_runs.append(openloop.run(
                "127.0.0.1", bare_port, bare_request, rate, args.latency_seconds,
                warmup=args.warmup_seconds, meter=meter,
            ))
            if meter is not None and meter.per_request_ms:
                bare_cpu.append(meter.per_request_ms)
            token = token_for()

            def full_request(i: int, run_id=run_id, token=token) -> bytes:
                return openloop.http_request(
                    "POST",
                    SEND_PATH,
                    {
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": f"{run_id}-{i}",
                    },
                    body_list[i % len(body_list)].encode(),
                )

            meter = cpu.Meter(groups[0]) if groups else None
            full_runs.append(openloop.run(
                "127.0.0.1", gateway_port, full_request, rate, args.latency_seconds,
                warmup=args.warmup_seconds, meter=meter,
            ))
            if meter is not None and meter.per_request_ms:
                full_cpu.append(meter.per_request_ms)
        full = {k: _median(full_runs, k) for k in ("p50_ms", "p99_ms", "late_ms_p99")}
        bare = {k: _median(bare_runs, k) for k in ("p50_ms", "p99_ms", "late_ms_p99")}
        out[str(rate)] = {
            "full": full,
            "bare": bare,
            "p50_over_bare_ms": round(full["p50_ms"] - bare["p50_ms"], 2),
            "p99_over_bare_ms": round(full["p99_ms"] - bare["p99_ms"], 2),
            "errors": sum(run["errors"] for run in full_runs + bare_runs),
            "achieved_per_s": {
                "full": _median(full_runs, "achieved_per_s"),
                "bare": _median(bare_runs, "achieved_per_s"),
            },
            "statuses": {
                "full": [run["statuses"] for run in full_runs],
                "bare": [run["statuses"] for run in bare_runs],
            },
            "failures": sum(run["failures"] for run in full_runs + bare_runs),
            **_cpu_figures(full_cpu, bare_cpu),
            # each run's own p50/p99: how far the median of 3 is from its neighbours
            "runs_p50_p99_ms": {
                "full": [[run["p50_ms"], run["p99_ms"]] for run in full_runs],
                "bare": [[run["p50_ms"], run["p99_ms"]] for run in bare_runs],
            },
        }
    return out


def _cpu_figures(full: list[dict], bare: list[dict]) -> dict:
    """Medians of the CPU milliseconds per request (server, PostgreSQL, total) and the bare
    endpoint's total over the send's: the full/bare ratio that the machine's other load
    hardly moves (:mod:`bench.cpu`)."""
    if not full or not bare:
        return {}
    figures = {
        side: {key: _median(runs, key) for key in ("server", "postgres", "total")}
        for side, runs in (("full", full), ("bare", bare))
    }
    return {
        "cpu_ms_per_request": figures,
        "cpu_ratio": round(figures["bare"]["total"] / figures["full"]["total"], 3)
        if figures["full"]["total"] else None,
        "runs_cpu_total_ms": {
            "full": [run["total"] for run in full], "bare": [run["total"] for run in bare]
        },
    }


def protected_get(gateway_port, token_for, args) -> dict:
    me_runs, health_runs = [], []
    for _ in range(args.runs):
        health_runs.append(wrk(gateway_port, "/healthz", "-", "", args))
        me_runs.append(wrk(gateway_port, "/api/v1/me", "-", token_for(), args))
    me, health = _median(me_runs, "per_s"), _median(health_runs, "per_s")
    return {
        "me_per_s": me,
        "healthz_per_s": health,
        "ratio": round(me / health, 3) if health else None,
        "errors": sum(run["errors"] for run in me_runs + health_runs),
        "runs": {"me": me_runs, "healthz": health_runs},
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
        "GATEWAY_LOG_LEVEL": args.log_level,
        "GATEWAY_THREADS": str(args.gunicorn_threads),
        **({"GATEWAY_PROFILE_DIR": args.profile_dir} if args.profile_dir else {}),
    }
    keys = bootstrap_partners(instance, env, [(SCHOOL, "school"), (LEERPLICHT, "leerplicht")])
    from bench.bare_table import create_table

    create_table(url)
    log = instance / "gateway.log"
    gateway = start_gunicorn(
        "gateway.wsgi:app", gateway_port, env, instance, args.workers, log_path=log
    )
    bare_env = {k: v for k, v in env.items() if k != "GATEWAY_PROFILE_DIR"}
    bare = start_gunicorn(
        "bench.bare_app:app",
        bare_port,
        dict(bare_env, BENCH_BARE_DATABASE_URL=url),
        instance,
        args.workers,
    )
    body_list = bodies(args.bodies)
    bodies_file = instance / "bodies.jsonl"
    bodies_file.write_text("\n".join(body_list) + "\n")

    def token_for() -> str:
        return get_token(gateway_port, keys[SCHOOL])

    ready(gateway_port, "/readyz")
    ready(bare_port, "/bare", method="HEAD")

    result: dict = {}
    try:
        warm = argparse.Namespace(**dict(vars(args), seconds=max(1, args.seconds // 5)))
        wrk(bare_port, BARE_PATH, str(bodies_file), "", warm)
        wrk(gateway_port, SEND_PATH, str(bodies_file), token_for(), warm)
        result["load_before"] = {"throughput": load_average()}
        if not args.no_throughput:
            result["throughput"] = throughput(
                gateway_port, bare_port, str(bodies_file), token_for, args
            )
        if args.rates:
            result["load_before"]["fixed_rates"] = load_average()
            result["fixed_rates"] = fixed_rates(
                gateway_port, bare_port, body_list, token_for, args, (gateway.pid, bare.pid)
            )
        if not args.no_get:
            result["load_before"]["protected_get"] = load_average()
            result["protected_get"] = protected_get(gateway_port, token_for, args)
        result["load_after"] = load_average()
        result["log_lines"] = sum(1 for _ in log.open("rb"))
    finally:
        stop(gateway)
        stop(bare)
        if args.keep_log:
            Path(args.keep_log).mkdir(parents=True, exist_ok=True)
            shutil.copy(log, Path(args.keep_log) / f"gateway-{database}.log")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="CI smoke run: tiny and fast")
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="each fixed rate")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rates", type=int, nargs="*", default=[50, 100, 150])
    parser.add_argument("--bodies", type=int, default=256, help="distinct bodies cycled")
    parser.add_argument("--no-get", action="store_true", help="skip the protected GET")
    parser.add_argument("--no-throughput", action="store_true", help="skip the wrk sends")
    parser.add_argument(
        "--gunicorn-threads", type=int, default=4, help="threads per worker (GATEWAY_THREADS)"
    )
    parser.add_argument(
        "--warmup-seconds", type=float, default=1.0,
        help="before each fixed-rate run: requests at the same rate, not counted",
    )
    parser.add_argument("--keep-log", help="copy the gateway's log file into this folder")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--log-level", default="INFO", help="the gateway's GATEWAY_LOG_LEVEL")
    parser.add_argument(
        "--profile-dir",
        help="GATEWAY_PROFILE_DIR for the gateway's workers (gateway/gunicorn_conf.py): "
        "each worker writes a cProfile of its requests there when it exits",
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    args = parser.parse_args()
    if args.tiny:
        args.seconds, args.latency_seconds, args.runs, args.rates = 1, 0.5, 1, [50]
        args.connections, args.warmup_seconds = 4, 0.1
    if not shutil.which(args.wrk):
        raise SystemExit("wrk is not installed (make install-test installs it as root)")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        workdir = Path(folder)
        if not args.no_sqlite:
            results["sqlite"] = measure(
                "sqlite", f"sqlite:///{workdir / 'bench.db'}", args, workdir
            )
        postgres = os.environ.get("GATEWAY_TEST_POSTGRES_URL")
        if postgres and not args.no_postgres:
            with postgres_database(postgres) as url:
                results["postgresql"] = measure("postgresql", url, args, workdir)
    version = subprocess.run([args.wrk, "--version"], capture_output=True, text=True)
    print(
        json.dumps(
            {
                "benchmark": "wrk",
                "config": {
                    "wrk": (version.stdout or version.stderr).split("\n")[0].strip(),
                    "threads": args.threads,
                    "connections": args.connections,
                    "seconds": args.seconds,
                    "runs": args.runs,
                    "rates_per_s": args.rates,
                    "latency_seconds": args.latency_seconds,
                    "warmup_seconds": args.warmup_seconds,
                    "gunicorn_workers": args.workers,
                    "threads_per_worker": args.gunicorn_threads,
                    "log_level": args.log_level,
                    "open_loop": "bench/openloop.py (latency from the intended send time)",
                },
                "cpu_count": os.cpu_count(),
                "goals": GOALS,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
