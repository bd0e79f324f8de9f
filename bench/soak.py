"""A bounded soak: mixed partner traffic against gunicorn + PostgreSQL for ``--minutes``.

What runs: ``gateway run`` (gunicorn with the shipped ``gateway/gunicorn_conf.py``, two
workers) on a fresh PostgreSQL database of the local cluster, a ``gateway worker`` pushing the
leerplicht office's messages to a real recipient (``gateway.delivery.recipient``), and
``--clients`` load-generator processes on 127.0.0.1 (Python, one keep-alive connection each,
no think time) that loop over a weighted mix: sends on four routes (two of them needing
consent), inbox pulls and acks, exchange status reads, consent records and searches, signals
opened and closed, and token requests (tokens are renewed every 200 s, as a client must).

What it reports: the RSS of every gunicorn process and of the delivery worker after the
warm-up ("start") and at the end, every minute in between; per endpoint the count, p50 and p99
latency; every answer that was not the expected one (an error; the run fails on any); and at
the end that every pushed message was delivered and the audit chain verifies.

``python bench/soak.py`` (10 minutes), ``--minutes N``, ``--tiny`` (20 seconds, CI smoke).
``--compare-gunicorn`` instead measures gthread settings (keep-alive, ``--worker-connections``)
on a bare app and on the gateway; see docs/soak.md.

Needs PostgreSQL: ``GATEWAY_TEST_POSTGRES_URL`` or ``--postgres-url`` (default
``postgresql://postgres@127.0.0.1:5432/test``, the CI cluster).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


# BSNs ------------------------------------------------------------------------------------------
def valid_bsns(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct nine-digit numbers passing the elfproef."""
    rng, found = random.Random(seed), set()
    while len(found) < count:
        digits = [rng.randrange(10) for _ in range(8)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        last = total % 11
        if last < 10 and digits[0] != 0:
            found.add("".join(map(str, digits)) + str(last))
    return sorted(found)


# the load generator (one process per client) ---------------------------------------------------
def client_process(number: int, base_url: str, partners: dict, seconds: float, bsns: list[str],
                   out: multiprocessing.Queue) -> None:
    import requests
    from joserfc import jwt
    from joserfc.jwk import ECKey

    from tests import exchange_helpers as ex

    rng = random.Random(number)
    session = requests.Session()
    keys = {oin: ECKey.import_key(p["key"]) for oin, p in partners.items()}
    tokens: dict[str, tuple[str, float]] = {}
    latencies: dict[str, list[float]] = {}
    errors: list[dict] = []
    today = date.today()
    sent_ids: list[str] = []

    def call(label, method, path, expected, oin=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if oin:
            headers["Authorization"] = f"Bearer {token(oin)}"
        started = time.perf_counter()
        try:
            response = session.request(method, base_url + path, headers=headers, timeout=30,
                                       **kwargs)
        except requests.RequestException as exc:
            errors.append({"endpoint": label, "status": 0, "error": type(exc).__name__})
            return None
        latencies.setdefault(label, []).append(time.perf_counter() - started)
        if response.status_code not in expected:
            errors.append({"endpoint": label, "status": response.status_code,
                           "body": response.text[:300]})
            return None
        return response

    def token(oin: str) -> str:
        cached = tokens.get(oin)
        if cached and time.monotonic() - cached[1] < 200:
            return cached[0]
        partner, now = partners[oin], int(time.time())
        claims = {"iss": partner["client_id"], "sub": partner["client_id"],
                  "jti": uuid.uuid4().hex, "aud": f"{base_url}/oauth/token", "iat": now,
                  "exp": now + 120}
        assertion = jwt.encode({"alg": "ES256", "kid": keys[oin].kid}, claims, keys[oin])
        form = {"grant_type": "client_credentials", "client_assertion": assertion,
                "client_assertion_type":
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
        response = call("POST /oauth/token", "POST", "/oauth/token", {200}, data=form)
        if response is None:
            raise SystemExit("token request failed")
        tokens[oin] = (response.json()["access_token"], time.monotonic())
        return tokens[oin][0]

    def send(message_type, recipient, payload, route):
        body = {"message_type": message_type, "recipient": recipient,
                "subject": {"bsn": rng.choice(bsns)}, "payload": payload}
        response = call(f"POST /api/v1/exchanges ({route})", "POST", "/api/v1/exchanges",
                        {202}, ex.SCHOOL, json=body,
                        headers={"Idempotency-Key": uuid.uuid4().hex})
        if response is not None:
            sent_ids.append(response.json()["id"])
            del sent_ids[:-50]

    inboxes = [ex.SCHOOL, ex.SWV, ex.GGD, ex.WIJ]

    def pull():
        oin = inboxes[rng.randrange(len(inboxes))]
        response = call("GET /api/v1/inbox", "GET", "/api/v1/inbox", {200}, oin,
                        params={"limit": 20})
        for item in response.json()["items"] if response is not None else []:
            call("POST /api/v1/inbox/{id}/ack", "POST", f"/api/v1/inbox/{item['id']}/ack",
                 {200}, oin)

    def status():
        if sent_ids:
            call("GET /api/v1/exchanges/{id}", "GET", f"/api/v1/exchanges/{rng.choice(sent_ids)}",
                 {200}, ex.SCHOOL)

    def consent():
        body = consent_body(rng.choice(bsns), "support", [ex.SCHOOL, "wij"])
        call("POST /api/v1/consents", "POST", "/api/v1/consents", {201}, ex.SCHOOL, json=body)

    def search():
        call("POST /api/v1/consents/search", "POST", "/api/v1/consents/search", {200}, ex.GGD,
             json={"subject": {"bsn": rng.choice(bsns)}, "limit": 10})

    def signal_open_close():
        oin = rng.choice([ex.SCHOOL, ex.WIJ])
        body = {"subject": {"bsn": rng.choice(bsns)}, "category": "wellbeing",
                "contact": {"name": "Soak", "email": "soak@example.nl"}}
        response = call("POST /api/v1/signals", "POST", "/api/v1/signals", {201}, oin, json=body)
        if response is not None:
            call("POST /api/v1/signals/{id}/close", "POST",
                 f"/api/v1/signals/{response.json()['id']}/close", {200}, oin)

    def fresh_token():
        tokens.pop(rng.choice(list(partners)), None)
        token(ex.SCHOOL)

    operations = [
        (3, lambda: send("absence_report", ex.LEERPLICHT, ex.absence_report(today),
                         "absence_report->leerplicht push")),
        (2, lambda: send("absence_report", ex.SWV, ex.absence_report(today),
                         "absence_report->swv")),
        (2, lambda: send("sickness_absence_referral", ex.GGD,
                         ex.sickness_absence_referral(today), "referral->ggd, consent")),
        (1, lambda: send("support_request", ex.WIJ, ex.support_request(today),
                         "support_request->wij, consent")),
        (3, pull),
        (1, status),
        (1, consent),
        (1, search),
        (1, signal_open_close),
        (0.2, fresh_token),
    ]
    weights = [w for w, _ in operations]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rng.choices(operations, weights)[0][1]()
    out.put({"latencies": latencies, "errors": errors})


def consent_body(bsn: str, purpose: str, parties: list[str]) -> dict:
    from tests import exchange_helpers as ex

    today = date.today()
    return {
        "subject": {"bsn": bsn}, "date_of_birth": ex.born(today, 9), "purpose": purpose,
        "parties": parties, "granted_by": [{"role": "parent"}],
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=180)).isoformat(),
        "evidence": {"method": "digital", "reference": "soak"},
    }


# memory --------------------------------------------------------------------------------------
def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def processes(server, worker) -> dict[str, int]:
    named = {"gunicorn master": server.process.pid}
    for n, pid in enumerate(children(server.process.pid), start=1):
        named[f"gunicorn worker {n}"] = pid
    named["delivery worker"] = worker.process.pid
    return named


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# the soak ------------------------------------------------------------------------------------
def soak(args) -> int:
    import requests

    from gateway.keys import KeyStore
    from tests import delivery_helpers as dh
    from tests import exchange_helpers as ex
    from tests.conftest import create_postgres_database, drop_postgres_database
    from tests.e2e.conftest import start_server, stop_server

    seconds = 20 if args.tiny else args.minutes * 60
    warmup = min(30.0, seconds / 4)
    instance = Path(tempfile.mkdtemp(prefix="gw-soak-"))
    KeyStore(instance / "keys", allow_generate=True)
    url = create_postgres_database("gwsoak")
    server = recipient = worker = None
    try:
        server = start_server(instance, instance / "keys", {
            "GATEWAY_DATABASE_URL": url, "GATEWAY_LOG_LEVEL": "WARNING",
            "GATEWAY_RATE_LIMIT_CLIENT": "1000000/second",
            "GATEWAY_RATE_LIMIT_ORGANISATION": "1000000/second",
            "GATEWAY_RATE_LIMIT_SIGNALS": "1000000/second",
            "GATEWAY_RATE_LIMIT_ADDRESS": "1000000/second",
        })
        recipient = dh.recipient(f"{server.url}/oauth/jwks")
        partners = dh.register_push_partners(server, instance, recipient.delivery_url)
        worker = dh.start_worker(server, "--poll", "0.5", name="soak")
        bsns = valid_bsns(200)
        school = partners[ex.SCHOOL]
        for bsn in bsns:  # the consents the referral and support routes need
            for purpose, parties in (("mazl", [ex.SCHOOL, "ggd"]), ("support", [ex.SCHOOL, "wij"])):
                response = requests.post(f"{server.url}/api/v1/consents",
                                            json=consent_body(bsn, purpose, parties),
                                            headers=school.headers(), timeout=30)
                assert response.status_code == 201, response.text
        shared = {oin: {"client_id": p.client_id, "key": p.key.as_dict(private=True)}
                  for oin, p in partners.items() if p.type != "operator"}
        queue: multiprocessing.Queue = multiprocessing.Queue()
        clients = [
            multiprocessing.Process(target=client_process,
                                    args=(n, server.url, shared, seconds, bsns, queue))
            for n in range(args.clients)
        ]
        named = processes(server, worker)
        samples = {"idle": {name: rss_kib(pid) for name, pid in named.items()}}
        began = time.monotonic()
        for client in clients:
            client.start()
        time.sleep(warmup)
        samples["start"] = {name: rss_kib(pid) for name, pid in named.items()}
        timeline = []
        done = threading.Event()

        def sample_every_minute():
            while not done.wait(60):
                timeline.append({"t": round(time.monotonic() - began),
                                 **{name: rss_kib(pid) for name, pid in named.items()}})

        sampler = threading.Thread(target=sample_every_minute, daemon=True)
        sampler.start()
        results = [queue.get(timeout=seconds + 300) for _ in clients]
        samples["end"] = {name: rss_kib(pid) for name, pid in named.items()}
        done.set()
        for client in clients:
            client.join(30)
        elapsed = time.monotonic() - began
        restarted = processes(server, worker) != named

        latencies: dict[str, list[float]] = {}
        errors: list[dict] = []
        for result in results:
            errors += result["errors"]
            for label, values in result["latencies"].items():
                latencies.setdefault(label, []).extend(values)

        # every pushed message delivered (once), the audit chain valid
        pushed = len(latencies.get("POST /api/v1/exchanges (absence_report->leerplicht push)", []))
        try:
            dh.wait_until(lambda: dh.metric(server, "gateway_outbox_pending") == 0
                          and len(recipient.stats()["ids"]) >= pushed, 120, 1.0,
                          "the outbox to drain")
            outbox_drained = True
        except AssertionError:
            outbox_drained = False
        stats = recipient.stats()
        verify = server.cli("audit", "verify", "--no-record", check=False)
        audit_valid = verify.returncode == 0
        audit_entries = json.loads(verify.stdout[: verify.stdout.rindex("}") + 1])["entries"]

        total = sum(len(v) for v in latencies.values())
        endpoints = {
            label: {
                "count": len(values),
                "per_second": round(len(values) / elapsed, 1),
                "p50_ms": round(statistics.median(values) * 1000, 1),
                "p99_ms": round(percentile(values, 0.99) * 1000, 1),
                "max_ms": round(max(values) * 1000, 1),
            }
            for label, values in sorted(latencies.items())
        }
        answer = {
            "benchmark": "soak",
            "command": " ".join(["python", "bench/soak.py", *sys.argv[1:]]),
            "seconds": round(elapsed, 1),
            "warmup_seconds": warmup,
            "clients": args.clients,
            "cpu_count": os.cpu_count(),
            "configuration": "gateway run (gunicorn_conf.py: gthread, 2 workers x 4 threads, "
                             "keepalive 5) + 1 gateway worker, PostgreSQL 15 local",
            "requests": total,
            "requests_per_second": round(total / elapsed, 1),
            "errors": len(errors),
            "error_samples": errors[:10],
            "processes_restarted": restarted,
            "rss_kib": samples,
            "rss_timeline_kib": timeline,
            "endpoints": endpoints,
            "pushed_sent": pushed,
            "pushed_received": stats["received"],
            "push_duplicates": stats["duplicates"],
            "outbox_drained": outbox_drained,
            "audit_chain_valid": audit_valid,
            "audit_entries": audit_entries,
        }
        print_table(answer)
        print(json.dumps(answer))
        if args.out:
            Path(args.out).write_text(json.dumps(answer, indent=2) + "\n")
        ok = not errors and not restarted and outbox_drained and audit_valid
        return 0 if ok else 1
    finally:
        if worker:
            worker.terminate()
        if recipient:
            recipient.stop()
        if server:
            stop_server(server.process)
        drop_postgres_database(url)
        shutil.rmtree(instance, ignore_errors=True)


def print_table(answer: dict) -> None:
    out = sys.stderr
    print(f"\n{answer['requests']} requests in {answer['seconds']} s "
          f"({answer['requests_per_second']}/s), {answer['errors']} errors", file=out)
    print(f"{'endpoint':<58} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}", file=out)
    for label, row in answer["endpoints"].items():
        print(f"{label:<58} {row['count']:>7} {row['p50_ms']:>8} {row['p99_ms']:>8}", file=out)
    print(f"\n{'process':<20} {'idle KiB':>10} {'start KiB':>10} {'end KiB':>10}", file=out)
    for name in answer["rss_kib"]["start"]:
        cells = [answer["rss_kib"][when].get(name) for when in ("idle", "start", "end")]
        print(f"{name:<20} " + " ".join(f"{c!s:>10}" for c in cells), file=out)


# gunicorn settings ---------------------------------------------------------------------------
BARE_APP = '''
import hashlib, os, time
from flask import Flask
app = Flask(__name__)

@app.get("/work")
def work():
    # a request of the gateway's shape: ~3 ms of CPU and ~5 ms of waiting on the database
    digest = b"x"
    for _ in range(2500):
        digest = hashlib.sha256(digest).digest()
    time.sleep(0.005)
    return {"pid": os.getpid()}
'''


def hammer(number: int, url: str, seconds: float, method: str, body_factory, token: str | None,
           keepalive: bool, out: multiprocessing.Queue) -> None:
    import requests

    session = requests.Session()
    latencies, pids, errors = [], {}, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        headers = {} if keepalive else {"Connection": "close"}
        if token:
            headers.update({"Authorization": f"Bearer {token}",
                            "Idempotency-Key": uuid.uuid4().hex})
        started = time.perf_counter()
        try:
            response = session.request(method, url, headers=headers, timeout=30,
                                       json=body_factory() if body_factory else None)
            ok = response.status_code in (200, 202)
        except requests.RequestException:
            ok = False
        latencies.append(time.perf_counter() - started)
        if not ok:
            errors += 1
        elif method == "GET":
            pid = response.json()["pid"]
            pids[pid] = pids.get(pid, 0) + 1
    out.put({"latencies": latencies, "pids": pids, "errors": errors})


def measure(url, seconds, connections, method="GET", body_factory=None, token=None,
            keepalive=True) -> dict:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=hammer, args=(n, url, seconds, method, body_factory,
                                                          token, keepalive, queue))
             for n in range(connections)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(30)
    latencies = [v for r in results for v in r["latencies"]]
    pids: dict = {}
    for result in results:
        for pid, count in result["pids"].items():
            pids[pid] = pids.get(pid, 0) + count
    return {
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "errors": sum(r["errors"] for r in results),
        "share_per_worker": sorted((round(c / max(1, sum(pids.values())), 2)
                                    for c in pids.values()), reverse=True),
    }


VARIANTS = {
    "shipped (gthread 2x4, keepalive 5, worker_connections 1000)": [],
    "gthread 2x4, keepalive 5, worker_connections 4": ["--worker-connections", "4"],
    "gthread 2x4, keepalive 0 (no keep-alive)": ["--keep-alive", "0"],
    "gthread 2x8, keepalive 5, worker_connections 8": ["--threads", "8",
                                                      "--worker-connections", "8"],
}


def start_gunicorn(app: str, env: dict, port: int, extra: list[str], cwd: Path):
    import requests

    command = [sys.executable, "-m", "gunicorn", "--config", "python:gateway.gunicorn_conf",
               "--bind", f"127.0.0.1:{port}", *extra, app]
    log = open(cwd / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError((cwd / f"gunicorn-{port}.log").read_text())


def stop_gunicorn(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


def compare_gunicorn(args) -> int:
    from gateway.keys import KeyStore
    from tests import delivery_helpers as dh
    from tests import exchange_helpers as ex
    from tests.conftest import create_postgres_database, drop_postgres_database
    from tests.e2e.conftest import free_port, start_server, stop_server
    from tests.e2e.partners import register_partners

    seconds, connections = args.compare_seconds, args.connections
    instance = Path(tempfile.mkdtemp(prefix="gw-gunicorn-"))
    (instance / "bare_soak_app.py").write_text(BARE_APP)
    KeyStore(instance / "keys", allow_generate=True)
    url = create_postgres_database("gwgunicorn")
    results: dict = {"bare app GET /work": {}, "gateway POST /api/v1/exchanges": {}}
    try:
        server = start_server(instance, instance / "keys", {
            "GATEWAY_DATABASE_URL": url, "GATEWAY_LOG_LEVEL": "WARNING",
            "GATEWAY_RATE_LIMIT_CLIENT": "1000000/second",
            "GATEWAY_RATE_LIMIT_ORGANISATION": "1000000/second",
            "GATEWAY_RATE_LIMIT_SIGNALS": "1000000/second",
            "GATEWAY_RATE_LIMIT_ADDRESS": "1000000/second",
        })
        school = register_partners(server, instance)[ex.SCHOOL]
        stop_server(server.process)
        env = {**server.env, "PYTHONPATH": f"{instance}:{REPO}"}
        for name, extra in VARIANTS.items():
            for target, app in (("bare app GET /work", "bare_soak_app:app"),
                                ("gateway POST /api/v1/exchanges", "gateway.wsgi:app")):
                port = free_port()
                env["GATEWAY_BASE_URL"] = f"http://127.0.0.1:{port}"
                process = start_gunicorn(app, env, port, extra, instance)
                try:
                    base = f"http://127.0.0.1:{port}"
                    if app == "gateway.wsgi:app":
                        school.base_url, school._tokens = base, {}
                        token = school.token()
                        measure(f"{base}/api/v1/exchanges", 2, connections, "POST",
                                dh.absence_body, token)  # warm-up
                        found = measure(f"{base}/api/v1/exchanges", seconds, connections,
                                        "POST", dh.absence_body, token,
                                        keepalive="keep-alive 0" not in name)
                    else:
                        measure(f"{base}/work", 2, connections)
                        found = measure(f"{base}/work", seconds, connections,
                                        keepalive="keep-alive 0" not in name)
                finally:
                    stop_gunicorn(process)
                results[target][name] = found
                print(f"{target:<32} {name:<62} {found}", file=sys.stderr, flush=True)
    finally:
        drop_postgres_database(url)
        shutil.rmtree(instance, ignore_errors=True)
    answer = {"benchmark": "gunicorn-settings", "cpu_count": os.cpu_count(),
              "connections": connections, "seconds": seconds, "results": results}
    print(json.dumps(answer))
    if args.out:
        Path(args.out).write_text(json.dumps(answer, indent=2) + "\n")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--tiny", action="store_true", help="20 seconds (CI smoke)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--out", default=None, help="also write the JSON answer here")
    parser.add_argument("--compare-gunicorn", action="store_true")
    parser.add_argument("--compare-seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=12)
    args = parser.parse_args()
    os.environ["GATEWAY_TEST_POSTGRES_URL"] = (
        args.postgres_url or os.environ.get("GATEWAY_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    )
    sys.exit(compare_gunicorn(args) if args.compare_gunicorn else soak(args))


if __name__ == "__main__":
    main()
