"""Shared pieces of the benchmarks: servers, partners with real keys, tokens."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import ECKey

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(extra: dict, instance: Path) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "GATEWAY_ENV": "development",
        "GATEWAY_RATE_LIMIT_CLIENT": "1000000/second",
        "GATEWAY_RATE_LIMIT_ORGANISATION": "1000000/second",
        "GATEWAY_RATE_LIMIT_SIGNALS": "1000000/second",
        "GATEWAY_RATE_LIMIT_ADDRESS": "1000000/second",
        **extra,
    }
    env["PROMETHEUS_MULTIPROC_DIR"] = str(instance / f"metrics-{uuid.uuid4().hex[:6]}")
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True)
    return env


def cli(env: dict, instance: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=_env(env, instance),
        cwd=instance,
        check=True,
        capture_output=True,
    )


def bootstrap_partners(instance: Path, env: dict, partners: list[tuple[str, str]]) -> dict:
    """Register one private_key_jwt client per (OIN, type); return their private keys."""
    organisations, keys = [], {}
    scopes = ["exchange:send", "exchange:receive"]
    for oin, type_ in partners:
        key = ECKey.generate_key("P-256", parameters={"kid": f"{type_}-1", "alg": "ES256"})
        keys[oin] = (f"bench-{type_}", key)
        organisations.append(
            {
                "oin": oin,
                "name": f"Bench {type_}",
                "type": type_,
                "clients": [
                    {
                        "client_id": f"bench-{type_}",
                        "auth": "private_key_jwt",
                        "jwks": {"keys": [key.as_dict(private=False)]},
                        "scopes": scopes,
                    }
                ],
            }
        )
    path = instance / "bootstrap.yaml"
    path.write_text(json.dumps({"organisations": organisations}))
    cli(env, instance, "keys", "init")
    cli(env, instance, "db", "upgrade")
    cli(env, instance, "bootstrap", str(path))
    return keys


def start_gunicorn(
    app: str, port: int, env: dict, instance: Path, workers: int, log_path: Path | None = None
):
    """gunicorn with the gateway's settings; its stderr (the JSON log) into ``log_path``, if
    given, so that a benchmark pays for writing its log lines as a deployment does."""
    full_env = _env(env, instance)
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:gateway.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            app,
        ],
        env=full_env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    if log_path:
        log.close()  # the child holds its own descriptor
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{app} did not start")


def stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def client_assertion(client_id: str, key: ECKey, audience: str) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 120,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def get_token(port: int, client: tuple[str, ECKey], scope: str | None = None) -> str:
    client_id, key = client
    base = f"http://127.0.0.1:{port}"
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(client_id, key, f"{base}/oauth/token"),
    }
    if scope:
        form["scope"] = scope
    request = urllib.request.Request(
        f"{base}/oauth/token", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local server
        return json.loads(response.read())["access_token"]


@contextlib.contextmanager
def postgres_database(admin_url: str):
    """A temporary PostgreSQL database for one benchmark run."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from gateway.config import normalise_database_url

    admin = make_url(normalise_database_url(admin_url))
    name = f"gwbench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
