"""Tokens issued per second and protected requests per second, against an unprotected endpoint.

Starts a real ``gateway run`` (gunicorn, 2 workers) on a temporary SQLite instance, registers
one ``private_key_jwt`` client through ``gateway bootstrap``, then loads the server with
concurrent HTTP clients (threads, one keep-alive session each):

- ``POST /oauth/token``: client assertions are signed before the clock starts, so the rate is
  the server's (assertion verification, the replay INSERT, token signing, the token INSERT);
- ``GET /api/v1/me``: the resource protector (token verification plus its one query);
- ``GET /healthz``: the same stack without authentication, the yardstick.

Speed is reported as ratios inside one run, since machines are noisy (QUALITY.md). Prints one
JSON object with the medians of several runs. CI runs ``--tiny`` to keep it working; it
asserts no timing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from joserfc import jwt
from joserfc.jwk import ECKey

REPO = Path(__file__).resolve().parents[1]
CLIENT_ID = "bench-client"
OIN = "00000099000000000099"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TINY = {"tokens": 40, "requests": 200, "threads": 4, "runs": 1}
FULL = {"tokens": 1000, "requests": 5000, "threads": 8, "runs": 5}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A ``gateway run`` process on a temporary instance, stopped with its process group."""

    def __init__(self, instance: Path, workers: int) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(instance),
            "GATEWAY_ENV": "development",
            "GATEWAY_BASE_URL": self.url,
            "GATEWAY_INSTANCE_DIR": str(instance),
            "GATEWAY_DATABASE_URL": f"sqlite:///{instance / 'gateway.db'}",
            "GATEWAY_KEYS_DIR": str(instance / "keys"),
            "GATEWAY_LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(instance / "metrics"),
            "PYTHONPATH": str(REPO),
            # throughput is measured, not the limits in front of it (the limiter still runs,
            # so its cost is in the figures): one address fetches every token, one client
            # calls /api/v1/me (rate-limited per client since issue 16)
            "GATEWAY_RATE_LIMIT_ADDRESS": "1000000/second",
            "GATEWAY_RATE_LIMIT_CLIENT": "1000000/second",
            "GATEWAY_RATE_LIMIT_ORGANISATION": "1000000/second",
        }
        (instance / "metrics").mkdir()
        self.instance = instance
        self.log = open(instance / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "gateway.cli", "run", "--port", str(port)]
        self.process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=self.env,
            cwd=instance,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.instance / "server.log").read_text())
            try:
                if requests.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet, or a worker still starting
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the gateway did not become ready")

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args],
            env=self.env,
            cwd=self.instance,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _register_client(server: Server, key: ECKey) -> None:
    bootstrap = {
        "organisations": [
            {
                "oin": OIN,
                "name": "Benchmark School",
                "type": "school",
                "clients": [
                    {
                        "client_id": CLIENT_ID,
                        "auth": "private_key_jwt",
                        "jwks": {"keys": [key.as_dict(private=False)]},
                        "scopes": ["exchange:send", "exchange:receive"],
                    }
                ],
            }
        ]
    }
    path = server.instance / "bootstrap.yaml"
    path.write_text(json.dumps(bootstrap))
    server.cli("bootstrap", str(path))


def _assertion(key: ECKey, token_url: str) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": token_url,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def _rate(count: int, threads: int, work) -> float:
    """Requests per second of ``work(session, index)`` run ``count`` times by ``threads``."""
    sessions = [requests.Session() for _ in range(threads)]
    shares = [range(t, count, threads) for t in range(threads)]

    def run(thread: int) -> None:
        for index in shares[thread]:
            work(sessions[thread], index)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(run, range(threads)))
    elapsed = time.perf_counter() - start
    for session in sessions:
        session.close()
    return count / elapsed


def _one_run(server: Server, key: ECKey, size: dict) -> dict[str, float]:
    token_url = f"{server.url}/oauth/token"
    assertions = [_assertion(key, token_url) for _ in range(size["tokens"])]
    tokens: list[str] = [""] * size["tokens"]

    def issue(session: requests.Session, index: int) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertions[index],
        }
        response = session.post(token_url, data=form, timeout=30)
        assert response.status_code == 200, response.text
        tokens[index] = response.json()["access_token"]

    def protected(session: requests.Session, index: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[index % len(tokens)]}"}
        response = session.get(f"{server.url}/api/v1/me", headers=headers, timeout=30)
        assert response.status_code == 200, response.text

    def unprotected(session: requests.Session, index: int) -> None:
        assert session.get(f"{server.url}/healthz", timeout=30).status_code == 200

    threads = size["threads"]
    return {
        "tokens_per_second": _rate(size["tokens"], threads, issue),
        "protected_requests_per_second": _rate(size["requests"], threads, protected),
        "unprotected_requests_per_second": _rate(size["requests"], threads, unprotected),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=FULL["tokens"], help="tokens per run")
    parser.add_argument("--requests", type=int, default=FULL["requests"], help="GETs per run")
    parser.add_argument("--threads", type=int, default=FULL["threads"], help="client threads")
    parser.add_argument("--runs", type=int, default=FULL["runs"], help="runs (median)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--tiny", action="store_true", help=f"CI smoke run: {TINY}")
    args = parser.parse_args(argv)
    size = dict(TINY) if args.tiny else {
        "tokens": args.tokens, "requests": args.requests, "threads": args.threads,
        "runs": args.runs,
    }

    key = ECKey.generate_key("P-256", parameters={"kid": "bench-1"})
    with tempfile.TemporaryDirectory(prefix="bench-oauth-") as directory:
        server = Server(Path(directory), args.workers)
        try:
            _register_client(server, key)
            _one_run(server, key, {**size, "tokens": min(size["tokens"], 20)})  # warm-up
            samples = [_one_run(server, key, size) for _ in range(size["runs"])]
        finally:
            server.stop()

    for sample in samples:
        sample["protected_vs_unprotected"] = (
            sample["protected_requests_per_second"] / sample["unprotected_requests_per_second"]
        )
        sample["tokens_vs_unprotected"] = (
            sample["tokens_per_second"] / sample["unprotected_requests_per_second"]
        )
    medians = {name: statistics.median(s[name] for s in samples) for name in samples[0]}
    rates = [name for name in medians if name.endswith("_per_second")]
    result = {
        "benchmark": "oauth",
        "config": {**size, "workers": args.workers, "database": "sqlite", "tiny": args.tiny},
        "cpu_count": os.cpu_count(),
        **{name: round(medians[name], 1) for name in rates},
        "ratios": {  # medians of the ratios within each run
            "protected_vs_unprotected": round(medians["protected_vs_unprotected"], 3),
            "tokens_vs_unprotected": round(medians["tokens_vs_unprotected"], 3),
        },
        "samples": [{k: round(v, 3) for k, v in s.items()} for s in samples],
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
