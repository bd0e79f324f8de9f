"""Logging off the request thread (issue 23, gateway/logs.py): a request only queues its access
line; one listener thread per process writes it. A sink that blocks holds up no request, and
the line still arrives once the sink moves again."""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import pytest

from gateway import logs


class BlockingSink(logging.Handler):
    """A log sink that waits on ``gate`` before writing each line (a full pipe, a stuck
    shipper), keeping the lines and the thread that wrote them."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.lines: list[dict] = []
        self.threads: set[str] = set()
        self.arrived = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        self.gate.wait(30)
        line = json.loads(self.format(record))
        with self.arrived:
            self.lines.append(line)
            self.threads.add(threading.current_thread().name)
            self.arrived.notify_all()

    def wait_for(self, predicate, seconds: float = 5.0) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: any(predicate(line) for line in self.lines), seconds)
        return [line for line in self.lines if predicate(line)]


@pytest.fixture
def sink():
    handler = BlockingSink()
    previous = logging.getLogger().level
    logs.configure("INFO", sink=handler)
    yield handler
    handler.gate.set()
    logs.configure("INFO", sink=logs.default_sink())  # back to stderr for the other tests
    logging.getLogger().setLevel(previous)


def access_lines(line: dict) -> bool:
    return line["logger"] == "gateway.access"


def test_a_request_completes_while_the_sink_is_blocked_and_its_line_arrives_after(app, sink):
    # the app's own configure() ran before the fixture's sink: it must keep the blocking sink
    logs.configure("INFO")
    client = app.test_client()
    answers = []
    request = threading.Thread(
        target=lambda: answers.append(client.get("/api/v1/me")), name="request-thread"
    )
    started = time.monotonic()
    request.start()
    request.join(10)
    assert not request.is_alive(), "the request waited on the blocked log sink"
    assert answers[0].status_code == 401
    assert time.monotonic() - started < 10
    assert sink.lines == []  # nothing written yet: the sink is still blocked

    sink.gate.set()
    [line] = sink.wait_for(access_lines)
    assert line["route"] == "/api/v1/me"
    assert line["status"] == 401
    assert line["code"] == "missing_token"
    assert line["level"] == "info"
    assert "request-thread" not in sink.threads  # written by the listener, not the request


def test_a_line_keeps_its_extras_its_merged_message_and_its_traceback(sink):
    sink.gate.set()
    logger = logging.getLogger("gateway.test_logs_queue")
    figures = {"count": 1}
    logger.info("sent %s", figures["count"], extra={"route": "/x", "status": 202})
    figures["count"] = 2  # a later change must not reach the line: merged when logged
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed", extra={"code": "internal"})
    [sent] = sink.wait_for(lambda line: line["message"] == "sent 1")
    assert sent["route"] == "/x" and sent["status"] == 202
    [failed] = sink.wait_for(lambda line: line["message"] == "failed")
    assert failed["code"] == "internal"
    assert "ValueError: boom" in failed["exception"]


def test_a_full_queue_drops_lines_instead_of_waiting_and_says_how_many(monkeypatch):
    monkeypatch.setattr(logs, "QUEUE_SIZE", 2)
    handler = BlockingSink()
    logs.configure("INFO", sink=handler)
    try:
        logger = logging.getLogger("gateway.test_logs_queue")
        started = time.monotonic()
        for number in range(20):
            logger.info("line %d", number)
        assert time.monotonic() - started < 2  # never waited on the stuck sink
        handler.gate.set()
        records = logs.queued_handler().queue
        deadline = time.monotonic() + 5
        while not records.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        logger.info("after")
        [notice] = handler.wait_for(lambda line: "dropped" in line)
        assert handler.wait_for(lambda line: line["message"] == "after")
        written = [line["message"] for line in handler.lines if line["message"].startswith("line")]
        # the queue holds two and the listener at most one more: at least 17 of 20 dropped
        assert notice["dropped"] >= 17
        assert notice["dropped"] + len(written) == 20
        assert notice["level"] == "warning"
    finally:
        handler.gate.set()
        logs.configure("INFO", sink=logs.default_sink())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_writes_its_lines_through_its_own_listener(tmp_path):
    path = tmp_path / "child.log"
    handler = logging.FileHandler(path)
    logs.configure("INFO", sink=handler)
    try:
        pid = os.fork()
        if pid == 0:  # the child: log, then exit through the normal exit path (atexit)
            code = 0
            try:
                logging.getLogger("gateway.child").info("from the child", extra={"pid": 1})
                logs.shutdown()
            except BaseException:  # noqa: BLE001 - report through the exit status
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        lines = [json.loads(text) for text in path.read_text().splitlines()]
        assert [line["message"] for line in lines] == ["from the child"]
    finally:
        logs.configure("INFO", sink=logs.default_sink())


def test_a_line_does_not_wake_the_listener_and_arrives_at_its_next_look(sink, monkeypatch):
    """Waking the listener thread for every line cost more CPU than queueing the line: a
    record is queued quietly, and the listener, looking every ``FLUSH_SECONDS``, writes it."""
    sink.gate.set()
    records = logs.queued_handler().queue
    woken = []
    real_notify = records.not_empty.notify
    monkeypatch.setattr(records.not_empty, "notify", lambda n=1: woken.append(n) or real_notify(n))
    logged = time.monotonic()
    logging.getLogger("gateway.test_logs_queue").info("quiet", extra={"route": "/q"})
    [line] = sink.wait_for(lambda line: line["message"] == "quiet")
    assert time.monotonic() - logged < 2  # at its next look, not at the next line
    assert line["route"] == "/q"
    assert woken == []
