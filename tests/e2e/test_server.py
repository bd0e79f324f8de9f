"""The real server: ready after start, headers on the wire, metrics summed over workers."""

import re
import uuid

import requests


def test_ready_and_healthy(live_server):
    assert requests.get(f"{live_server.url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{live_server.url}/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_headers_on_the_wire(live_server):
    response = requests.get(f"{live_server.url}/api/v1/nothing", timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert re.fullmatch(r"1\.\d+\.\d+", response.headers["API-Version"])
    assert uuid.UUID(response.headers["Fsc-Transaction-Id"]).version == 7


def healthz_count(text: str) -> float:
    pattern = r'gateway_request_duration_seconds_count\{endpoint="/healthz",method="GET",status="200"\} (\S+)'
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


def test_metrics_are_summed_over_worker_processes(live_server):
    before = healthz_count(requests.get(f"{live_server.url}/metrics", timeout=5).text)
    for _ in range(40):
        # a fresh connection each time so that both workers get requests
        with requests.Session() as session:
            session.get(f"{live_server.url}/healthz", timeout=5)
    after = healthz_count(requests.get(f"{live_server.url}/metrics", timeout=5).text)
    assert after - before == 40
    files = (live_server.instance / "metrics").glob("histogram_*.db")
    assert len({f.stem.split("_")[1] for f in files}) >= 2, "two workers wrote metrics"
