"""``/metrics`` under gunicorn with two workers: the exchange counts, parsed with
prometheus-client's own parser, match the exchanges this test made; no BSN anywhere."""

from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests import exchange_helpers as ex
from tests.e2e.partners import register_partners

TODAY = ex.today()


@pytest.fixture(scope="module")
def partners(live_server, tmp_path_factory):
    return register_partners(live_server, tmp_path_factory.mktemp("metrics"))


def samples(server) -> dict:
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    assert ex.BSN not in text and ex.OTHER_BSN not in text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def exchanges(found, **labels) -> float:
    key = ("gateway_exchanges_total", tuple(sorted(labels.items())))
    return found.get(key, 0.0)


def test_exchange_counts_are_exact_across_workers(live_server, partners):
    allowed = dict(message_type="absence_report", sender_type="school",
                   recipient_type="leerplicht", decision="allowed", code="none")
    refused = dict(message_type="absence_report", sender_type="school", recipient_type="ggd",
                   decision="denied", code="route_not_allowed")
    before = samples(live_server)
    school = partners[ex.SCHOOL]
    for _ in range(7):
        with requests.Session():
            assert school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY)).status_code == 202
    for _ in range(3):
        assert school.send("absence_report", ex.GGD, ex.absence_report(TODAY)).status_code == 403
    bad = requests.get(f"{live_server.url}/api/v1/inbox", headers={"Authorization": "Bearer x.y.z"},
                       timeout=10)
    assert bad.status_code == 401
    after = samples(live_server)
    failures = sum(v for (n, _), v in after.items() if n == "gateway_auth_failures_total")
    assert failures - sum(v for (n, _), v in before.items() if n == "gateway_auth_failures_total") >= 1
    assert exchanges(after, **allowed) - exchanges(before, **allowed) == 7
    assert exchanges(after, **refused) - exchanges(before, **refused) == 3
    names = {name for name, _ in after}
    for required in ("gateway_auth_failures_total", "gateway_request_duration_seconds_bucket",
                     "gateway_audit_entries_total", "gateway_pseudonymisations_total",
                     "gateway_build_info"):
        assert any(n.startswith(required.removesuffix("_total")) for n in names), required
    for (_, labels) in after:
        for _, value in labels:
            assert ex.BSN not in value


def test_access_log_lines_are_structured_and_hold_no_bsn(live_server, partners):
    import json

    school = partners[ex.SCHOOL]
    school.send("absence_report", ex.GGD, ex.absence_report(TODAY))
    lines = (live_server.instance / "server.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    refused = [r for r in records if r.get("logger") == "gateway.access" and r.get("code") == "route_not_allowed"]
    assert refused, "the refusal is logged with its code"
    last = refused[-1]
    assert last["route"] == "/api/v1/exchanges" and last["org"] == ex.SCHOOL
    assert last["status"] == 403 and last["duration_ms"] >= 0 and last["request_id"]
    text = "\n".join(lines)
    assert ex.BSN not in text and ex.OTHER_BSN not in text
    assert "Bearer" not in text and "eyJ" not in text  # no tokens in the log


def test_every_series_api_md_names_is_exposed_from_the_start(live_server):
    """API.md section 11 lists the series; ``gateway_deliveries_total{result}`` was absent
    until a worker made its first push (issue 16)."""
    found = samples(live_server)
    for result in ("delivered", "failed", "dead_lettered"):
        assert ("gateway_deliveries_total", (("result", result),)) in found, result
    names = {name for name, _ in found}
    for name in ("gateway_exchanges_total", "gateway_auth_failures_total",
                 "gateway_request_duration_seconds_bucket", "gateway_outbox_pending",
                 "gateway_audit_entries_total"):
        assert name in names or any(n.startswith(name) for n in names), name
