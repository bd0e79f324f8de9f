"""The Kubernetes manifests' own commands and environment, run as processes in production mode.

No cluster runs here, so the pod is played by local processes: the migrations Job's command,
then the gateway Deployment's ``gateway`` container and the gateway-worker Deployment's
``delivery`` container (a pod of its own, with its own metrics directory) with exactly their
``command`` and the ConfigMap's environment. Only what names cluster things is mapped to this
machine: container paths to temporary directories, the Secrets to a fresh PostgreSQL database
and a random metrics token, the Redis Service to the local Redis, and the listen address to
127.0.0.1 on free ports. Then a real Prometheus scrapes both with the Kubernetes scrape config
(its discovery swapped for static targets, which Debian's build cannot do) and finds the
worker's delivery metrics on the worker's own /metrics, in the same job.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.e2e.conftest import REPO, LiveServer, free_port
from tests.e2e.partners import Partner
from tests.e2e.test_prometheus_scrape import PROMETHEUS, Prometheus

KUBERNETES = REPO / "deploy" / "kubernetes"
REDIS_DB = 12


def _redis_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


pytestmark = [
    pytest.mark.skipif(not PROMETHEUS.exists(), reason="Debian's `prometheus` is not installed"),
    pytest.mark.skipif(
        not POSTGRES_URL, reason="production runs on PostgreSQL: set GATEWAY_TEST_POSTGRES_URL"
    ),
    pytest.mark.skipif(not _redis_up(), reason="production needs Redis on 127.0.0.1:6379"),
]


def manifests() -> list[dict]:
    found = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        found += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return found


def find(kind: str, name: str) -> dict:
    return next(d for d in manifests() if d["kind"] == kind and d["metadata"]["name"] == name)


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} is no longer in the manifest; update this test"
    return text.replace(old, new)


class Pod:
    """The pod's processes, each in its own session so that it can be stopped as a group."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command,
            env=env,
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def pod_environment(tmp_path, keys_dir):
    config = find("ConfigMap", "gateway-config")["data"]
    database_url = create_postgres_database("gwpod")
    keys = tmp_path / "keys"
    shutil.copytree(keys_dir, keys)
    (tmp_path / "metrics").mkdir()  # the emptyDir
    (tmp_path / "instance").mkdir()
    token = secrets.token_urlsafe(32)
    env = {
        **config,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "GATEWAY_KEYS_DIR": str(keys),
        "GATEWAY_INSTANCE_DIR": str(tmp_path / "instance"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "GATEWAY_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    assert config["GATEWAY_ENV"] == "production"
    assert config["GATEWAY_KEYS_DIR"] == "/etc/gateway/keys"
    assert config["GATEWAY_RATE_LIMIT_STORAGE"].startswith("redis://gateway-redis:6379/")
    secrets_by_name = {"gateway-database": database_url, "gateway-metrics-token": token}
    yield env, secrets_by_name, token
    drop_postgres_database(database_url)


def container_env(container: dict, env: dict, secrets_by_name: dict) -> dict:
    assert container["envFrom"] == [{"configMapRef": {"name": "gateway-config"}}]
    result = dict(env)
    for variable in container.get("env", []):
        result[variable["name"]] = secrets_by_name[variable["valueFrom"]["secretKeyRef"]["name"]]
    return result


def test_the_manifests_commands_run_a_production_pod_that_prometheus_scrapes(
    pod_environment, tmp_path
):
    env, secrets_by_name, token = pod_environment
    job = find("Job", "gateway-migrations")["spec"]["template"]["spec"]["containers"][0]
    migrated = subprocess.run(
        job["command"],
        env=container_env(job, env, secrets_by_name),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "database at revision" in migrated.stdout

    containers = {
        c["name"]: c
        for c in find("Deployment", "gateway")["spec"]["template"]["spec"]["containers"]
    }
    port = free_port()
    api = containers["gateway"]
    api_command = list(api["command"])
    api_command[-1] = replace_once(
        api_command[-1], "--host 0.0.0.0 --port 8000", f"--host 127.0.0.1 --port {port}"
    )
    [delivery] = find("Deployment", "gateway-worker")["spec"]["template"]["spec"]["containers"]
    worker_port = free_port()
    worker_command = list(delivery["command"])
    worker_command[-1] = replace_once(
        replace_once(worker_command[-1], "--metrics-port 9100", f"--metrics-port {worker_port}"),
        "/tmp/worker-heartbeat", str(tmp_path / "worker-heartbeat"),
    )
    worker_metrics = tmp_path / "worker-metrics"  # the worker pod's own emptyDir
    worker_metrics.mkdir()
    pod = Pod(tmp_path)
    prometheus = None
    try:
        gunicorn = pod.start("gateway", api_command, container_env(api, env, secrets_by_name))
        worker = pod.start(
            "delivery",
            worker_command,
            container_env(delivery, env, secrets_by_name)
            | {"PROMETHEUS_MULTIPROC_DIR": str(worker_metrics)},
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert gunicorn.poll() is None, pod.log("gateway")
            try:
                if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the production gateway never became ready\n" + pod.log("gateway"))
        assert requests.get(f"{url}/metrics", timeout=5).status_code == 401
        assert worker.poll() is None, pod.log("delivery")

        config = yaml.safe_load(
            (REPO / "deploy" / "prometheus" / "prometheus-kubernetes.yml").read_text()
        )
        job_config = next(j for j in config["scrape_configs"] if j["job_name"] == "gateway")
        token_file = tmp_path / "token"
        token_file.write_text(token)
        job_config["authorization"]["credentials_file"] = str(token_file)
        del job_config["kubernetes_sd_configs"], job_config["relabel_configs"]
        job_config["static_configs"] = [
            {"targets": [f"127.0.0.1:{port}", f"127.0.0.1:{worker_port}"]}
        ]
        config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
        config["rule_files"] = [str(REPO / "deploy" / "prometheus" / "rules.yml")]
        workdir = tmp_path / "prometheus"
        workdir.mkdir()
        prom_port = free_port()
        prometheus = Prometheus(workdir, config, prom_port)

        assert prometheus.wait_for(
            lambda: len(prometheus.query('up{job="gateway"} == 1')) == 2, "both pods scraped"
        )
        # the series exist from the start at 0 (API.md section 11)
        assert prometheus.wait_for(lambda: prometheus.query("gateway_deliveries_total"), "zero")
        assert prometheus.query("sum(gateway_deliveries_total)")[0]["value"][1] == "0"

        # A partner whose push URL reaches nothing: only the delivery container's process
        # attempts it, so the attempt's counter can only come from that process. Production
        # takes only public https URLs on port 443; a name under .invalid never resolves.
        server = LiveServer(url, container_env(api, env, secrets_by_name), gunicorn, tmp_path)
        partners = dh.register_push_partners(server, tmp_path, "https://partner.invalid/inbox")
        school = partners[ex.SCHOOL]
        issuer = env["GATEWAY_BASE_URL"]
        school.assertion = lambda audience=None: Partner.assertion(school, f"{issuer}/oauth/token")
        sent = school.send("absence_report", ex.LEERPLICHT, dh.absence_body()["payload"])
        assert sent.status_code == 202, sent.text
        attempts = prometheus.wait_for(
            lambda: prometheus.query(
                'sum by (result) (gateway_deliveries_total{job="gateway"}) > 0'),
            "the delivery container's attempt, on the worker's own /metrics",
            30,
        )
        # The first of GATEWAY_DELIVERY_MAX_ATTEMPTS (10) failed; the message waits for a retry.
        assert [(s["metric"]["result"], s["value"][1]) for s in attempts] == [("failed", "1")]
        assert prometheus.wait_for(
            lambda: prometheus.query('max(gateway_outbox_pending{job="gateway"}) == 1'),
            "the worker's outbox gauge to count the waiting message",
        )
        assert worker.poll() is None, pod.log("delivery")
    finally:
        if prometheus:
            prometheus.stop()
        pod.stop()
