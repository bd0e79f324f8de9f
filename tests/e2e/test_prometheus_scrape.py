"""A real Prometheus (Debian's ``prometheus``) scrapes a real gateway with the shipped config.

The configuration is ``deploy/prometheus/prometheus.yml`` itself, with only what cannot apply
on one machine replaced: the compose DNS discovery becomes a static target on 127.0.0.1, the
token file path points to a temporary file, and the intervals are 1 s. The job name, metrics
path, scheme and the Bearer authorization stay as shipped, and ``deploy/prometheus/rules.yml``
is loaded and evaluated by the same server.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import shutil
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import REPO, free_port, start_server, stop_server

PROMETHEUS = Path("/usr/bin/prometheus")
DEPLOY = REPO / "deploy"

pytestmark = pytest.mark.skipif(
    not PROMETHEUS.exists(),
    reason="Debian's `prometheus` package is not installed (`make install-test` installs it as root)",
)


def shipped_config(gateway_port: int, prometheus_port: int, token_file: Path, bad_token: Path):
    """The shipped scrape config, pointed at the local gateway (see module docstring)."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    assert config["rule_files"] == ["rules.yml"]
    config["rule_files"] = [str(DEPLOY / "prometheus" / "rules.yml")]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    gateway = jobs["gateway"]
    assert gateway["metrics_path"] == "/metrics"
    assert gateway["authorization"]["type"] == "Bearer"
    assert gateway["dns_sd_configs"][0]["port"] == 8000
    del gateway["dns_sd_configs"]
    gateway["static_configs"] = [{"targets": [f"127.0.0.1:{gateway_port}"]}]
    gateway["authorization"]["credentials_file"] = str(token_file)
    # The same job with a wrong token: its scrapes must fail (up == 0).
    wrong = copy.deepcopy(gateway)
    wrong["job_name"] = "gateway-wrong-token"
    wrong["authorization"]["credentials_file"] = str(bad_token)
    jobs["prometheus"]["static_configs"] = [{"targets": [f"127.0.0.1:{prometheus_port}"]}]
    config["scrape_configs"].append(wrong)
    return config


class Prometheus:
    def __init__(self, workdir: Path, config: dict, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        config_file = workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        checked = subprocess.run(
            ["promtool", "check", "config", str(config_file)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        self.log = workdir / "prometheus.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    str(PROMETHEUS),
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--storage.tsdb.retention.time=1h",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_for(lambda: self._ready(), "Prometheus to become ready", 20)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("prometheus exited:\n" + self.log.read_text())
        try:
            return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def wait_for(self, condition, what: str, seconds: float = 30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}\n" + self.log.read_text()[-3000:])

    def query(self, expr: str) -> list[dict]:
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        body = answer.json()
        assert answer.status_code == 200 and body["status"] == "success", (expr, body)
        return body["data"]["result"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def metered_gateway(tmp_path_factory, keys_dir):
    """One gateway (gunicorn, two workers) whose /metrics needs a token, for this module."""
    token = secrets.token_urlsafe(32)
    instance = tmp_path_factory.mktemp("metered-gateway")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys", {"GATEWAY_METRICS_TOKEN": token})
    yield server, token
    stop_server(server.process)


@pytest.fixture(scope="module")
def prometheus(metered_gateway, tmp_path_factory):
    """A Prometheus with the shipped config and rules, scraping the gateway every second."""
    server, token = metered_gateway
    workdir = tmp_path_factory.mktemp("prometheus")
    token_file = workdir / "metrics_token"
    token_file.write_text(token + "\n")
    bad_token = workdir / "wrong_token"
    bad_token.write_text("not-the-token\n")
    gateway_port = int(server.url.rsplit(":", 1)[1])
    port = free_port()
    started = Prometheus(workdir, shipped_config(gateway_port, port, token_file, bad_token), port)
    yield started
    started.stop()


def healthz_count(server, token: str) -> float:
    """The gateway's own count of GET /healthz, read directly from /metrics."""
    text = requests.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "gateway_request_duration_seconds_count"
                and sample.labels.get("endpoint") == "/healthz"
            ):
                return sample.value
    return 0.0


def test_prometheus_scrapes_gateway_with_token_and_counts_requests(metered_gateway, prometheus):
    server, token = metered_gateway
    assert requests.get(f"{server.url}/metrics", timeout=5).status_code == 401
    before = healthz_count(server, token)
    for _ in range(5):
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    selector = 'gateway_request_duration_seconds_count{job="gateway", endpoint="/healthz"}'

    def scraped_all_five():
        series = prometheus.query(selector)
        return series if series and float(series[0]["value"][1]) >= before + 5 else None

    series = prometheus.wait_for(scraped_all_five, "a scrape after the five requests")
    assert len(series) == 1
    labels = series[0]["metric"]
    assert labels["method"] == "GET" and labels["status"] == "200"
    assert labels["instance"] == server.url.removeprefix("http://")
    # Exactly the five requests made above, summed over both gunicorn workers.
    assert float(series[0]["value"][1]) == before + 5

    def target_health():
        up = {s["metric"]["job"]: s["value"][1] for s in prometheus.query("up")}
        return up if {"gateway", "gateway-wrong-token"} <= up.keys() else None

    up = prometheus.wait_for(target_health, "both gateway jobs to be scraped")
    assert up["gateway"] == "1"
    assert up["gateway-wrong-token"] == "0"  # the token guard holds against Prometheus too
    targets = requests.get(f"{prometheus.url}/api/v1/targets", timeout=5).json()
    wrong = [
        t for t in targets["data"]["activeTargets"] if t["labels"]["job"] == "gateway-wrong-token"
    ]
    assert "401" in wrong[0]["lastError"]


def _unix(rfc3339: str) -> float:
    """Prometheus' nanosecond RFC 3339 timestamps, to the microsecond."""
    trimmed = re.sub(r"(\.\d{1,6})\d*", r"\1", rfc3339).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed).timestamp()


def _rules(prometheus: Prometheus) -> list[dict]:
    body = requests.get(f"{prometheus.url}/api/v1/rules", timeout=5).json()
    return [rule for group in body["data"]["groups"] for rule in group["rules"]]


def test_prometheus_evaluates_the_shipped_alert_rules_on_real_metrics(prometheus):
    shipped = yaml.safe_load((DEPLOY / "prometheus" / "rules.yml").read_text())
    names = {r["alert"] for g in shipped["groups"] for r in g["rules"]}
    scraped = prometheus.wait_for(
        lambda: prometheus.query('gateway_build_info{job="gateway"}'),
        "a scrape of gateway_build_info",
    )
    scraped_at = float(scraped[0]["value"][0])

    def evaluated_since_scrape():
        rules = _rules(prometheus)
        fresh = rules and all(_unix(r["lastEvaluation"]) > scraped_at for r in rules)
        return rules if fresh else None

    rules = prometheus.wait_for(evaluated_since_scrape, "an evaluation after the scrape")
    assert {r["name"] for r in rules} == names
    for rule in rules:
        assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))
    # The chain alert follows the real gauge: firing exactly when it reads 0.
    # The chain gauge is absent until a verification ran ("not yet known", not "broken").
    chain_gauge = prometheus.query('gateway_audit_chain_valid{job="gateway"}')
    valid = float(chain_gauge[0]["value"][1]) if chain_gauge else None
    verified = prometheus.query(
        'gateway_audit_last_verification_timestamp_seconds{job="gateway"}'
    )
    verified_at = float(verified[0]["value"][1]) if verified else 0.0
    chain = next(r for r in rules if r["name"] == "GatewayAuditChainInvalid")
    assert (chain["state"] == "firing") == (valid == 0.0 and verified_at > 0)
    # Nothing is down, so the availability alerts stay quiet.
    for name in ("GatewayTargetDown", "GatewayNoReplicaUp", "GatewayReadinessFailing"):
        assert next(r for r in rules if r["name"] == name)["state"] == "inactive"


def test_every_grafana_expression_runs_on_prometheus(prometheus):
    """Real PromQL parsing and evaluation of every dashboard query (variables substituted)."""
    dashboard = json.loads((DEPLOY / "grafana" / "gateway-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [a["expr"] for a in dashboard["annotations"]["list"] if a.get("expr")]
    assert len(exprs) >= 15
    prometheus.wait_for(lambda: prometheus.query('up{job="gateway"} == 1'), "a scrape")
    for expr in exprs:
        concrete = expr.replace("$__rate_interval", "1m")
        concrete = re.sub(r"\$endpoint\b", "/readyz", concrete)
        assert "$" not in concrete, concrete
        prometheus.query(concrete)


def test_worker_delivery_metrics_reach_prometheus_and_a_dead_letter_fires_the_alert(
    metered_gateway, prometheus, tmp_path
):
    """The deployment shape of deploy/: ``gateway worker`` writes into the API's
    PROMETHEUS_MULTIPROC_DIR (here: the live server's), so Prometheus sees its deliveries
    through the API's /metrics; a dead letter after Prometheus started fires the shipped
    GatewayDeadLettersRising alert (the series exists at 0 from the start, API.md section 11,
    so the alert sees the increase to 1)."""
    server, token = metered_gateway
    recipient = dh.recipient(f"{server.url}/oauth/jwks")
    try:
        partners = dh.register_push_partners(server, tmp_path, recipient.delivery_url)
        prometheus.wait_for(lambda: prometheus.query('up{job="gateway"} == 1'), "a scrape")
        zero = prometheus.wait_for(
            lambda: prometheus.query('gateway_deliveries_total{result="dead_lettered"}'),
            "the zero series")
        assert [float(s["value"][1]) for s in zero] == [0.0]

        def send() -> str:
            response = partners[ex.SCHOOL].send(
                "absence_report", ex.LEERPLICHT, dh.absence_body()["payload"]
            )
            assert response.status_code == 202, response.text
            return response.json()["id"]

        delivered = send()
        dh.cli(server, "worker", "--once")
        assert delivered in recipient.stats()["ids"]
        recipient.control(status=500)
        send()
        dh.cli(server, "worker", "--once", env={"GATEWAY_DELIVERY_MAX_ATTEMPTS": "1"})

        def counted(result: str) -> float | None:
            series = prometheus.query(
                f'gateway_deliveries_total{{job="gateway",result="{result}"}}'
            )
            return float(series[0]["value"][1]) if series else None

        assert prometheus.wait_for(lambda: counted("dead_lettered"), "the dead letter") == 1.0
        assert counted("delivered") >= 1.0
        pending = prometheus.query('gateway_outbox_pending{job="gateway"}')
        assert [float(s["value"][1]) for s in pending] == [0.0]
        firing = prometheus.wait_for(
            lambda: prometheus.query(
                'ALERTS{alertname="GatewayDeadLettersRising", alertstate="firing"}'
            ),
            "GatewayDeadLettersRising to fire",
        )
        assert firing[0]["metric"]["severity"] == "warning"
    finally:
        recipient.stop()
