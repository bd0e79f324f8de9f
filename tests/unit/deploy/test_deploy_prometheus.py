"""deploy/prometheus: Debian's ``promtool`` checks the configs and rules, and unit-tests the alerts.

``promtool test rules`` feeds synthetic series through the shipped alert expressions and checks
which alerts fire when: each alert is shown to fire on the failure it is for and to stay quiet
on normal traffic. The annotations are stripped from that copy (their text is checked for
template syntax by ``promtool check rules``), except for one alert whose rendered annotation
is checked in full.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "rules.yml"
KUBERNETES = REPO / "deploy" / "kubernetes"

pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="Debian's `prometheus` package (promtool) is not installed; `make install-test` (and `make test`) add it",
)


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def alert_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"]}


def test_promtool_check_rules_passes_on_the_shipped_rules():
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in result.stdout


def test_the_rules_cover_the_required_alerts():
    expressions = {
        rule["alert"]: rule["expr"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }
    assert "gateway_audit_chain_valid" in expressions["GatewayAuditChainInvalid"]
    assert (
        'gateway_deliveries_total{result="dead_lettered"}'
        in (expressions["GatewayDeadLettersRising"])
    )
    assert "rate(gateway_auth_failures_total" in expressions["GatewayAuthFailureBurst"]
    assert 'up{job="gateway"}' in expressions["GatewayTargetDown"]
    assert 'endpoint="/readyz"' in expressions["GatewayReadinessFailing"]
    assert "gateway_outbox_pending" in expressions["GatewayOutboxBacklog"]
    assert "increase(gateway_signal_probes_total[1h])" in expressions["GatewaySignalProbes"]


def test_promtool_rejects_a_broken_rule_file(tmp_path):
    """The check is not a rubber stamp: a PromQL syntax error fails it."""
    broken = tmp_path / "rules.yml"
    broken.write_text(RULES.read_text().replace("== 0", "== == 0", 1))
    result = promtool("check", "rules", str(broken))
    assert result.returncode != 0


def test_promtool_check_config_passes_on_the_compose_scrape_config(tmp_path):
    """The full check (rule files included); only the token file is a local one."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    gateway = next(job for job in config["scrape_configs"] if job["job_name"] == "gateway")
    assert gateway["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/run/secrets/metrics_token",
    }
    token = tmp_path / "metrics_token"
    token.write_text("test-token\n")
    gateway["authorization"]["credentials_file"] = str(token)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    shutil.copy(RULES, tmp_path / "rules.yml")
    result = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "rules found" in result.stdout


def test_kubernetes_scrape_config_checks_and_matches_the_manifests(tmp_path):
    """Debian's Prometheus build has no Kubernetes discovery (``kubernetes_sd_configs`` is
    an unknown field to it), so when promtool refuses that field the discovery block is
    swapped for a static target and everything else (auth, relabelling, rules) is checked.
    The discovery's namespace, Service and port name are checked against the manifests."""
    source = PROMETHEUS_DIR / "prometheus-kubernetes.yml"
    config = yaml.safe_load(source.read_text())
    gateway = next(job for job in config["scrape_configs"] if job["job_name"] == "gateway")
    token = tmp_path / "token"
    token.write_text("test-token\n")
    assert gateway["authorization"]["type"] == "Bearer"
    gateway["authorization"]["credentials_file"] = str(token)
    shutil.copy(RULES, tmp_path / "rules.yml")
    target = tmp_path / "prometheus.yml"
    target.write_text(yaml.safe_dump(config))
    result = promtool("check", "config", str(target))
    if result.returncode != 0:
        assert "field kubernetes_sd_configs not found" in result.stdout + result.stderr
        del gateway["kubernetes_sd_configs"]
        gateway["static_configs"] = [{"targets": ["gateway.thuiszitterspact.svc:80"]}]
        target.write_text(yaml.safe_dump(config))
        result = promtool("check", "config", str(target))
    assert result.returncode == 0, result.stdout + result.stderr

    discovery = yaml.safe_load(source.read_text())["scrape_configs"][0]
    assert discovery["kubernetes_sd_configs"][0]["role"] == "endpoints"
    namespace = discovery["kubernetes_sd_configs"][0]["namespaces"]["names"][0]
    keep = discovery["relabel_configs"][0]
    assert keep["action"] == "keep"
    # the API pods (Service gateway) and the delivery workers, a Deployment of their own
    # since issue 16 (Service gateway-worker in worker-deployment.yaml)
    services = {
        d["metadata"]["name"]: d
        for path in KUBERNETES.glob("*.yaml")
        for d in yaml.safe_load_all(path.read_text())
        if d and d["kind"] == "Service"
    }
    kept = [alternative.split(";") for alternative in keep["regex"].split("|")]
    assert [name for name, _ in kept] == ["gateway", "gateway-worker"]
    for service_name, port_name in kept:
        service = services[service_name]
        assert service["metadata"]["namespace"] == namespace
        assert port_name in {port["name"] for port in service["spec"]["ports"]}
    policy = list(yaml.safe_load_all((KUBERNETES / "networkpolicy.yaml").read_text()))
    for name in ("gateway-api-ingress", "gateway-worker-metrics-ingress"):
        ingress = next(p for p in policy if p["metadata"]["name"] == name)
        sources = ingress["spec"]["ingress"][0]["from"]
        assert any(
            s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "monitoring"
            and s["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "prometheus"
            for s in sources
        ), f"Prometheus must be admitted by {name}"


# ---------------------------------------------------------------------------------------------
# promtool test rules: each alert fires on its failure, and not on normal traffic.

GW = 'job="gateway",instance="10.0.0.7:8000"'

ALERT_TESTS = [
    {
        "interval": "1m",
        "input_series": [
            {"series": f"gateway_audit_chain_valid{{{GW}}}", "values": "1 1 1 0 0"},
        ],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "GatewayAuditChainInvalid", "exp_alerts": []},
            {
                "eval_time": "3m",
                "alertname": "GatewayAuditChainInvalid",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "job": "gateway",
                            "instance": "10.0.0.7:8000",
                            "severity": "critical",
                        }
                    }
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {
                "series": f'gateway_deliveries_total{{{GW},result="dead_lettered"}}',
                "values": "0x10 1x10",
            },
            {"series": f'gateway_deliveries_total{{{GW},result="delivered"}}', "values": "0+50x40"},
        ],
        "alert_rule_test": [
            {"eval_time": "9m", "alertname": "GatewayDeadLettersRising", "exp_alerts": []},
            {
                "eval_time": "12m",
                "alertname": "GatewayDeadLettersRising",
                "exp_alerts": [{"exp_labels": {"job": "gateway", "severity": "warning"}}],
            },
            # Fifteen minutes after the last dead letter the alert resolves by itself.
            {"eval_time": "35m", "alertname": "GatewayDeadLettersRising", "exp_alerts": []},
        ],
    },
    {
        # The first dead letter of a process: the series appears at 1, with no 0 before it.
        "interval": "1m",
        "input_series": [
            {"series": f'gateway_deliveries_total{{{GW},result="delivered"}}', "values": "0+50x40"},
            {
                "series": f'gateway_deliveries_total{{{GW},result="dead_lettered"}}',
                "values": "_x20 1x20",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "19m", "alertname": "GatewayDeadLettersRising", "exp_alerts": []},
            {
                "eval_time": "22m",
                "alertname": "GatewayDeadLettersRising",
                "exp_alerts": [{"exp_labels": {"job": "gateway", "severity": "warning"}}],
            },
            {"eval_time": "38m", "alertname": "GatewayDeadLettersRising", "exp_alerts": []},
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            # 120 failures a minute = 2/s: a burst. 30 a minute = 0.5/s: background noise.
            {
                "series": f'gateway_auth_failures_total{{{GW},method="private_key_jwt",error="invalid_client"}}',
                "values": "0x10 0+120x20",
            },
            {
                "series": f'gateway_auth_failures_total{{{GW},method="bearer",error="invalid_token"}}',
                "values": "0+30x30",
            },
        ],
        "alert_rule_test": [
            # Background noise alone, then the burst while it is still pending (for: 2m).
            {"eval_time": "9m", "alertname": "GatewayAuthFailureBurst", "exp_alerts": []},
            {"eval_time": "11m", "alertname": "GatewayAuthFailureBurst", "exp_alerts": []},
            {
                "eval_time": "16m",
                "alertname": "GatewayAuthFailureBurst",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "job": "gateway",
                            "method": "private_key_jwt",
                            "error": "invalid_client",
                            "severity": "warning",
                        }
                    }
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {"series": 'up{job="gateway",instance="a:8000"}', "values": "1 1 0 0 0 0 0"},
            {"series": 'up{job="gateway",instance="b:8000"}', "values": "1 1 1 1 1 1 1"},
        ],
        "alert_rule_test": [
            {"eval_time": "3m", "alertname": "GatewayTargetDown", "exp_alerts": []},
            {
                "eval_time": "5m",
                "alertname": "GatewayTargetDown",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "job": "gateway",
                            "instance": "a:8000",
                            "severity": "warning",
                        }
                    }
                ],
            },
            {"eval_time": "5m", "alertname": "GatewayNoReplicaUp", "exp_alerts": []},
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {"series": 'up{job="gateway",instance="a:8000"}', "values": "1 1 0 0 0 0 0"},
        ],
        "alert_rule_test": [
            {"eval_time": "3m", "alertname": "GatewayNoReplicaUp", "exp_alerts": []},
            {
                "eval_time": "5m",
                "alertname": "GatewayNoReplicaUp",
                "exp_alerts": [{"exp_labels": {"severity": "critical"}}],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {
                "series": f'gateway_request_duration_seconds_count{{{GW},endpoint="/readyz",method="GET",status="200"}}',
                "values": "0+12x5 60x20",
            },
            {
                "series": f'gateway_request_duration_seconds_count{{{GW},endpoint="/readyz",method="GET",status="503"}}',
                "values": "0x5 0+12x20",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "GatewayReadinessFailing", "exp_alerts": []},
            {
                "eval_time": "15m",
                "alertname": "GatewayReadinessFailing",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "job": "gateway",
                            "instance": "10.0.0.7:8000",
                            "severity": "critical",
                        }
                    }
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {"series": f"gateway_outbox_pending{{{GW}}}", "values": "500x10 2000x30"},
        ],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "GatewayOutboxBacklog", "exp_alerts": []},
            {"eval_time": "20m", "alertname": "GatewayOutboxBacklog", "exp_alerts": []},
            {
                "eval_time": "30m",
                "alertname": "GatewayOutboxBacklog",
                "exp_alerts": [{"exp_labels": {"job": "gateway", "severity": "warning"}}],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {
                "series": f'gateway_request_duration_seconds_count{{{GW},endpoint="/api/v1/exchanges",method="POST",status="202"}}',
                "values": "0+100x30",
            },
            {
                "series": f'gateway_request_duration_seconds_count{{{GW},endpoint="/api/v1/exchanges",method="POST",status="500"}}',
                "values": "0x10 0+20x20",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "GatewayServerErrors", "exp_alerts": []},
            {
                "eval_time": "25m",
                "alertname": "GatewayServerErrors",
                "exp_alerts": [{"exp_labels": {"job": "gateway", "severity": "warning"}}],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            # Every request lands between 1 s and 2.5 s: p99 about 2.5 s.
            *[
                {
                    "series": f'gateway_request_duration_seconds_bucket{{{GW},endpoint="/api/v1/exchanges",method="POST",status="202",le="{le}"}}',
                    "values": "0+0x30" if float(le) < 2.5 else "0+60x30",
                }
                for le in ("0.5", "1.0", "2.5", "+Inf")
            ],
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "GatewaySlowExchanges", "exp_alerts": []},
            {
                "eval_time": "20m",
                "alertname": "GatewaySlowExchanges",
                "exp_alerts": [{"exp_labels": {"job": "gateway", "severity": "warning"}}],
            },
        ],
    },
    {
        # Five signals of school organisations opened and closed with no exchange in between,
        # one a minute: a probe. One such signal of a GGD in the same hour is a slip.
        "interval": "1m",
        "input_series": [
            {
                "series": f'gateway_signal_probes_total{{{GW},org_type="school"}}',
                "values": "0x10 1 2 3 4 5 5x100",
            },
            {"series": f'gateway_signal_probes_total{{{GW},org_type="ggd"}}', "values": "0x10 1x100"},
        ],
        "alert_rule_test": [
            {"eval_time": "13m", "alertname": "GatewaySignalProbes", "exp_alerts": []},
            {
                "eval_time": "20m",
                "alertname": "GatewaySignalProbes",
                "exp_alerts": [
                    {"exp_labels": {"job": "gateway", "org_type": "school", "severity": "warning"}}
                ],
            },
            # an hour after the last probe the alert resolves by itself
            {"eval_time": "90m", "alertname": "GatewaySignalProbes", "exp_alerts": []},
        ],
    },
    {
        # An escalation stored while its holder was suspended (the daily run sets the gauge to
        # 1); delivered by the run after the holder's reactivation (back to 0).
        "interval": "1m",
        "input_series": [
            {
                "series": f"gateway_pact_escalations_undelivered{{{GW}}}",
                "values": "0x10 1x10 0x10",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "GatewayPactEscalationUndelivered", "exp_alerts": []},
            {
                "eval_time": "12m",
                "alertname": "GatewayPactEscalationUndelivered",
                "exp_alerts": [{"exp_labels": {"job": "gateway", "severity": "warning"}}],
            },
            {"eval_time": "25m", "alertname": "GatewayPactEscalationUndelivered", "exp_alerts": []},
        ],
    },
]


def without_annotations(rules_file: Path, target: Path) -> None:
    document = yaml.safe_load(rules_file.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    target.write_text(yaml.safe_dump(document))


def run_rule_tests(tmp_path: Path, tests: list[dict], rules: Path) -> subprocess.CompletedProcess:
    spec = tmp_path / "tests.yml"
    spec.write_text(
        yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": tests})
    )
    return promtool("test", "rules", str(spec))


def test_every_alert_fires_on_its_failure_and_not_on_normal_traffic(tmp_path):
    tested = {case["alertname"] for test in ALERT_TESTS for case in test["alert_rule_test"]}
    assert tested == alert_names(), "every shipped alert has a promtool test"
    stripped = tmp_path / "rules.yml"
    without_annotations(RULES, stripped)
    result = run_rule_tests(tmp_path, ALERT_TESTS, stripped)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rule_tests_detect_a_wrong_expectation(tmp_path):
    """Control: promtool really compares, so a wrong expectation fails."""
    stripped = tmp_path / "rules.yml"
    without_annotations(RULES, stripped)
    wrong = [
        {
            "interval": "1m",
            "input_series": [{"series": f"gateway_audit_chain_valid{{{GW}}}", "values": "1x5"}],
            "alert_rule_test": [
                {
                    "eval_time": "3m",
                    "alertname": "GatewayAuditChainInvalid",
                    "exp_alerts": [{"exp_labels": {"severity": "critical"}}],
                }
            ],
        }
    ]
    assert run_rule_tests(tmp_path, wrong, stripped).returncode != 0


def test_alert_annotations_render_with_labels(tmp_path):
    test = {
        "interval": "1m",
        "input_series": [{"series": f"gateway_audit_chain_valid{{{GW}}}", "values": "0x3"}],
        "alert_rule_test": [
            {
                "eval_time": "1m",
                "alertname": "GatewayAuditChainInvalid",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "job": "gateway",
                            "instance": "10.0.0.7:8000",
                            "severity": "critical",
                        },
                        "exp_annotations": {
                            "summary": "Audit chain verification failed on 10.0.0.7:8000",
                            "description": (
                                "gateway_audit_chain_valid is 0: the last `gateway audit "
                                "verify` run (or the periodic verification) found a break in "
                                "the audit hash chain. Run `gateway audit verify` to find the "
                                "first bad sequence number."
                            ),
                        },
                    }
                ],
            }
        ],
    }
    result = run_rule_tests(tmp_path, [test], RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_chain_alert_waits_for_a_verification(tmp_path):
    """A fresh process reads 0 before any verification: not yet known, so no alert; the
    same 0 after a verification fires."""
    stripped = tmp_path / "rules.yml"
    without_annotations(RULES, stripped)
    tests = [
        {
            "interval": "1m",
            "input_series": [
                {"series": f"gateway_audit_chain_valid{{{GW}}}", "values": "0x5"},
                {
                    "series": f"gateway_audit_last_verification_timestamp_seconds{{{GW}}}",
                    "values": "0 0 0 1700000000 1700000000 1700000000",
                },
            ],
            "alert_rule_test": [
                {"eval_time": "2m", "alertname": "GatewayAuditChainInvalid", "exp_alerts": []},
                {
                    "eval_time": "4m",
                    "alertname": "GatewayAuditChainInvalid",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "job": "gateway",
                                "instance": "10.0.0.7:8000",
                                "severity": "critical",
                            }
                        }
                    ],
                },
            ],
        }
    ]
    result = run_rule_tests(tmp_path, tests, stripped)
    assert result.returncode == 0, result.stdout + result.stderr
