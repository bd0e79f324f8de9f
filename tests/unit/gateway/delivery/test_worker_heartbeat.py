"""The worker's liveness: a heartbeat file touched on every turn of the loop, and
``gateway worker --check-heartbeat`` (the Kubernetes exec probe) failing once it is older
than the bound, so that a stuck worker is restarted rather than silently holding its pod.

A database outage is not "stuck": the loop goes on (and beats) while it waits, so the
kubelet does not restart workers that could do nothing better (the API's /healthz follows
the same rule).
"""

from __future__ import annotations

import os
import threading
import time

from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from gateway.cli import main
from gateway.cli.delivery import Heartbeat
from gateway.delivery.worker import DeliveryPolicy, DeliveryWorker


class Outbox:
    """Nothing due; or a claim that raises (database down), or that never returns (stuck)."""

    def __init__(self, mode: str = "idle") -> None:
        self.mode = mode
        self.release = threading.Event()

    def claim(self, batch, now, lease):
        if self.mode == "down":
            raise OperationalError("select", {}, Exception("connection refused"))
        if self.mode == "stuck":
            self.release.wait(30)
        return []

    def pending(self) -> int:
        return 0


class Pusher:
    def close(self) -> None:
        pass


def worker(outbox) -> DeliveryWorker:
    return DeliveryWorker(outbox, None, None, Pusher(), DeliveryPolicy())


def running(delivery_worker, beats: list, poll: float = 0.02) -> threading.Thread:
    delivery_worker.heartbeat = lambda: beats.append(time.monotonic())
    thread = threading.Thread(target=delivery_worker.run, kwargs={"poll": poll}, daemon=True)
    thread.start()
    return thread


def test_the_loop_beats_on_every_turn():
    beats: list[float] = []
    delivery_worker = worker(Outbox())
    thread = running(delivery_worker, beats)
    time.sleep(0.5)
    delivery_worker.stop()
    thread.join(5)
    assert len(beats) >= 10, beats  # ~25 turns of 20 ms in 0.5 s


def test_the_loop_beats_while_the_database_is_down():
    beats: list[float] = []
    delivery_worker = worker(Outbox("down"))
    thread = running(delivery_worker, beats)
    time.sleep(0.5)
    delivery_worker.stop()
    thread.join(5)
    assert len(beats) >= 10


def test_a_stuck_loop_stops_beating():
    beats: list[float] = []
    outbox = Outbox("stuck")
    delivery_worker = worker(outbox)
    thread = running(delivery_worker, beats)
    time.sleep(0.5)
    assert len(beats) == 1, "one beat before the claim that never returns"
    delivery_worker.stop()
    outbox.release.set()
    thread.join(5)


def check(path, max_age: int = 60):
    return CliRunner().invoke(
        main,
        ["worker", "--check-heartbeat", "--max-age", str(max_age), "--heartbeat-file", str(path)],
    )


def test_the_check_passes_on_a_fresh_heartbeat(tmp_path):
    path = tmp_path / "heartbeat"
    Heartbeat(path).beat()
    result = check(path)
    assert result.exit_code == 0, result.output


def test_the_check_fails_on_a_heartbeat_older_than_the_bound(tmp_path):
    path = tmp_path / "heartbeat"
    Heartbeat(path).beat()
    old = time.time() - 61
    os.utime(path, (old, old))
    result = check(path, 60)
    assert result.exit_code != 0
    assert "heartbeat" in result.output and "61" in result.output
    assert check(path, 120).exit_code == 0


def test_the_check_fails_without_a_heartbeat(tmp_path):
    result = check(tmp_path / "never-written")
    assert result.exit_code != 0 and "heartbeat" in result.output


def test_a_new_worker_forgets_the_heartbeat_of_its_predecessor(tmp_path):
    """/tmp (an emptyDir) outlives a container restart: the old file must not vouch for the
    new process before its loop runs."""
    path = tmp_path / "heartbeat"
    Heartbeat(path).beat()
    Heartbeat(path).start()
    assert not path.exists()
    assert check(path).exit_code != 0


def test_gateway_worker_touches_its_heartbeat_file(sqlite_url, keys_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.setenv("GATEWAY_LOG_LEVEL", "WARNING")
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    path = tmp_path / "heartbeat"
    result = CliRunner().invoke(main, ["worker", "--once", "--heartbeat-file", str(path)])
    assert result.exit_code == 0, result.output
    assert path.exists()
    assert check(path).exit_code == 0


def test_a_worker_pod_serves_its_metrics_behind_the_token():
    """In a pod of its own the worker's delivery metrics no longer reach the API's /metrics."""
    import requests

    from gateway.cli.delivery import serve_metrics
    from gateway.config import Settings
    from tests.e2e.conftest import free_port

    port = free_port()
    server = serve_metrics(port, Settings(metrics_token="worker-metrics-token"))
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        assert requests.get(url, timeout=5).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert requests.get(url, headers=wrong, timeout=5).status_code == 401
        right = {"Authorization": "Bearer worker-metrics-token"}
        response = requests.get(url, headers=right, timeout=5)
        assert response.status_code == 200
        assert "gateway_outbox_pending" in response.text
        assert requests.get(url.replace("/metrics", "/"), headers=right, timeout=5).status_code == 404
    finally:
        server.shutdown()
        server.server_close()
