"""A real gateway: ``gateway run`` (gunicorn, two workers) on a free port, once per session.

Tests talk to it over HTTP with real clients, and change its data through the real CLI
(``server.cli(...)``), exactly as an operator would.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    env: dict
    process: subprocess.Popen
    instance: Path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.instance,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"gateway {' '.join(args)} failed:\n{result.stderr}")
        return result


def start_server(instance: Path, keys_dir: Path, extra_env: dict | None = None) -> LiveServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(instance),
        "GATEWAY_ENV": "development",
        "GATEWAY_BASE_URL": url,
        "GATEWAY_INSTANCE_DIR": str(instance),
        "GATEWAY_DATABASE_URL": f"sqlite:///{instance / 'gateway.db'}",
        "GATEWAY_KEYS_DIR": str(keys_dir),
        "GATEWAY_LOG_LEVEL": "INFO",
        "PYTHONPATH": str(REPO),
        # tests drive far more requests per client than a partner would; the rate-limit
        # tests set their own limits
        "GATEWAY_RATE_LIMIT_CLIENT": "100000/second",
        "GATEWAY_RATE_LIMIT_ORGANISATION": "100000/second",
        "GATEWAY_RATE_LIMIT_SIGNALS": "100000/second",
        "GATEWAY_RATE_LIMIT_ADDRESS": "100000/second",
        **(extra_env or {}),
    }
    env["PROMETHEUS_MULTIPROC_DIR"] = str(instance / "metrics")
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    log = open(instance / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "run", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=instance,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((instance / "server.log").read_text())
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return LiveServer(url, env, process, instance)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(
        "the gateway did not become ready:\n" + (instance / "server.log").read_text()
    )


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, keys_dir) -> LiveServer:
    instance = tmp_path_factory.mktemp("live")
    keys = instance / "keys"
    shutil.copytree(keys_dir, keys)
    server = start_server(instance, keys)
    yield server
    stop_server(server.process)
