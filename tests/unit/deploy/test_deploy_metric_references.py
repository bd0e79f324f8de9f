"""The Grafana dashboard and the alert rules query only metrics the gateway really exports.

Metric names are taken from gateway/metrics.py itself (every prometheus-client metric object
in the module, expanded to its exposed sample names: ``_total``, ``_bucket``, ...), plus the
standard ``process_``/``python_`` collectors and what Prometheus makes itself (``up``,
``ALERTS``). The names an expression uses are what remains of it once strings, label
matchers, ranges, grouping clauses, function calls and keywords are taken away; their PromQL
syntax is checked by ``promtool`` (and evaluated by a real Prometheus in
tests/e2e/test_prometheus_scrape.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import prometheus_client
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from gateway import metrics

REPO = Path(__file__).resolve().parents[3]
DASHBOARD = REPO / "deploy" / "grafana" / "gateway-dashboard.json"
RULES = REPO / "deploy" / "prometheus" / "rules.yml"

SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "enum": ("",),
}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "and", "or", "unless", "offset", "inf", "nan",
}  # fmt: skip
PROMETHEUS_OWN = {"up", "ALERTS"}


def gateway_sample_names() -> set[str]:
    names = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for suffix in SUFFIXES[value._type]:
                names.add(value._name + suffix)
    return names


def standard_sample_names() -> set[str]:
    names = set()
    for family in prometheus_client.REGISTRY.collect():
        if family.name.startswith(("process_", "python_")):
            names |= {sample.name for sample in family.samples}
    return names


def metric_names_in(expr: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-z]*", "", text)  # numbers, durations
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        word = match.group(0)
        if following.startswith("(") or word.lower() in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def dashboard_exprs() -> list[str]:
    board = dashboard()
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    return exprs + [a["expr"] for a in board["annotations"]["list"] if a.get("expr")]


def rule_exprs() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_the_extractor_finds_metric_names_and_only_them():
    expr = (
        "histogram_quantile(0.99, sum by (le, job) (rate(gateway_request_duration_seconds_bucket"
        '{endpoint=~"/api/v1/exchanges", status!="5.."}[$__rate_interval]))) > 1 and on (job) '
        "up == 1 unless absent(process_cpu_seconds_total offset 5m)"
    )
    assert metric_names_in(expr) == {
        "gateway_request_duration_seconds_bucket",
        "up",
        "process_cpu_seconds_total",
    }


def test_the_known_names_come_from_the_metrics_module():
    known = gateway_sample_names()
    assert {
        "gateway_exchanges_total",
        "gateway_auth_failures_total",
        "gateway_request_duration_seconds_bucket",
        "gateway_consent_checks_total",
        "gateway_outbox_pending",
        "gateway_deliveries_total",
        "gateway_audit_entries_total",
        "gateway_audit_chain_valid",
    } <= known
    assert all(name.startswith("gateway_") for name in known)


@pytest.mark.parametrize("source", ["dashboard", "rules"])
def test_every_expression_uses_only_exported_metrics(source):
    exprs = dashboard_exprs() if source == "dashboard" else rule_exprs()
    known = gateway_sample_names() | standard_sample_names() | PROMETHEUS_OWN
    used = set()
    for expr in exprs:
        names = metric_names_in(expr)
        assert names, f"no metric in {expr!r}"
        assert names <= known, f"unknown metrics {names - known} in {expr!r}"
        used |= names
    if source == "dashboard":
        # The dashboard shows what operators asked for.
        for required in (
            "gateway_exchanges_total",
            "gateway_auth_failures_total",
            "gateway_request_duration_seconds_bucket",
            "gateway_outbox_pending",
            "gateway_deliveries_total",
            "gateway_audit_entries_total",
            "gateway_audit_chain_valid",
        ):
            assert required in used, f"the dashboard has no panel on {required}"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian's prometheus)")
def test_every_dashboard_expression_is_valid_promql(tmp_path):
    """promtool parses each query as a recording rule (Grafana variables substituted)."""
    rules = []
    for index, expr in enumerate(dashboard_exprs()):
        concrete = expr.replace("$__rate_interval", "5m").replace("$endpoint", ".*")
        assert "$" not in concrete, concrete
        rules.append({"record": f"dashboard:query_{index}", "expr": concrete})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_structure():
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    occupied = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids and len(ref_ids) == len(set(ref_ids))
        for target in panel["targets"]:
            for used in re.findall(r"\$(\w+)", target["expr"]):
                assert used == "__rate_interval" or used in variables, used
