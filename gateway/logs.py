"""Structured (JSON lines) logging, written off the request thread.

One JSON object per line so that log shippers need no parsing rules. Privacy: log calls pass
only codes, ids and pseudonyms; the formatter adds no request bodies, headers or query strings.

A request thread only puts its record on an in-process queue (:class:`_Enqueue`); one listener
thread per process (:class:`logging.handlers.QueueListener`) formats the lines and writes them
to the sink (stderr). A record does not wake the listener: it looks at the queue every
``FLUSH_SECONDS`` and writes what it finds, so a line reaches the sink at most that late. Waking
a sleeping thread for every line (a futex call, a switch, the GIL handed over and back) cost
more CPU than queueing the line itself (measured: 100-170 against 20-35 microseconds of the
process's CPU per line, one line every half millisecond).

A slow or stuck sink (a full pipe to the log shipper, a blocked terminal) never holds up a
request (issue 23): the queue is bounded, and when it is full a record is dropped and counted
rather than waited for; the listener reports the count in its next line. The message's
arguments are merged and a traceback rendered on the calling thread, so a line says what was
true when it was logged. The listener is stopped (its queue drained) at exit and restarted in a
forked child.
"""

from __future__ import annotations

import atexit
import copy
import json
import logging
import os
import queue
import sys
import threading
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# records waiting for the sink; beyond this a stuck sink costs lines, never a request's time
QUEUE_SIZE = 10_000
# how long a queued line may wait for the listener's next look
FLUSH_SECONDS = 0.05


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


class _Records(queue.Queue):
    """The bounded queue of records, with a put that does not wake the listener."""

    def put_quietly(self, record: logging.LogRecord) -> bool:
        """Queue ``record`` without notifying a waiting ``get``; False when the queue is full."""
        with self.mutex:
            if 0 < self.maxsize <= self._qsize():
                return False
            self._put(record)
            self.unfinished_tasks += 1
            return True


class _Enqueue(QueueHandler):
    """The root logger's handler: a record onto the queue, never a wait for the sink."""

    def __init__(self, records: _Records) -> None:
        super().__init__(records)
        self.dropped = 0
        self._lock_dropped = threading.Lock()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # unlike QueueHandler.prepare, keep the record's fields (the JSON formatter writes the
        # extras as members) and format nothing but the message and a traceback here
        record = copy.copy(record)
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            record.exc_info = None
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        if not self.queue.put_quietly(record):
            with self._lock_dropped:
                self.dropped += 1

    def take_dropped(self) -> int:
        with self._lock_dropped:
            dropped, self.dropped = self.dropped, 0
        return dropped


class _Listener(QueueListener):
    """Writes queued records to the sink; first reports records a full queue dropped."""

    def __init__(self, records: _Records, sink: logging.Handler, source: _Enqueue) -> None:
        super().__init__(records, sink, respect_handler_level=True)
        self.source = source

    def dequeue(self, block: bool) -> logging.LogRecord:
        """The next record, looking again every ``FLUSH_SECONDS`` (records do not wake this
        thread; the stop sentinel, put the usual way, does)."""
        while True:
            try:
                return self.queue.get(block, FLUSH_SECONDS)
            except queue.Empty:
                if not block:
                    raise

    def stop(self, timeout: float = 5.0) -> None:
        """Drain the queue and end the thread, waiting at most ``timeout`` seconds for a stuck
        sink (the thread is a daemon: exit is never held up by it)."""
        thread = self._thread
        if thread is None:
            return
        try:
            self.queue.put(self._sentinel, timeout=timeout)
        except queue.Full:
            pass
        thread.join(timeout)
        self._thread = None

    def handle(self, record: logging.LogRecord) -> None:
        dropped = self.source.take_dropped()
        if dropped:
            notice = logging.makeLogRecord(
                {
                    "name": __name__,
                    "levelno": logging.WARNING,
                    "levelname": "WARNING",
                    "msg": "log records dropped: the log sink was too slow",
                    "dropped": dropped,
                }
            )
            super().handle(notice)
        super().handle(record)


_TRACEBACKS = logging.Formatter()
_state_lock = threading.Lock()
_listener: _Listener | None = None


def default_sink() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def configure(level: str, sink: logging.Handler | None = None) -> None:
    """Install the queue handler on the root logger and start its listener, once per process.

    Called again (every app created in one process), it only sets the level. ``sink`` (tests:
    a handler that blocks) replaces the installed sink; by default JSON lines go to stderr.
    """
    global _listener
    root = logging.getLogger()
    with _state_lock:
        if _listener is not None and sink is None:
            root.setLevel(level)
            return
        _stop_locked()
        for handler in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
            root.removeHandler(handler)  # a handler of an earlier, synchronous configure()
        sink = sink or default_sink()
        if sink.formatter is None:
            sink.setFormatter(JsonFormatter())
        records = _Records(QUEUE_SIZE)
        source = _Enqueue(records)
        _listener = _Listener(records, sink, source)
        root.addHandler(source)
        root.setLevel(level)
        _listener.start()


def shutdown() -> None:
    """Write out what is queued and stop the listener (at exit; gunicorn's ``worker_exit``)."""
    with _state_lock:
        _stop_locked()


def _stop_locked() -> None:
    global _listener
    listener, _listener = _listener, None
    if listener is None:
        return
    root = logging.getLogger()
    root.removeHandler(listener.source)
    listener.stop()  # a sentinel after the queued records; joins the thread


def _restart_in_child() -> None:
    """A forked child has the queue but not the listener thread: give it its own of both."""
    global _listener
    listener = _listener
    if listener is None:
        return
    _listener = None
    logging.getLogger().removeHandler(listener.source)
    records = _Records(QUEUE_SIZE)
    source = _Enqueue(records)
    _listener = _Listener(records, listener.handlers[0], source)
    logging.getLogger().addHandler(source)
    _listener.start()


def queued_handler() -> _Enqueue | None:
    """The root logger's queue handler, if :func:`configure` ran (tests)."""
    return _listener.source if _listener is not None else None


def _after_fork_in_child() -> None:
    global _state_lock
    _state_lock = threading.Lock()  # the parent held its copy across the fork
    _restart_in_child()


atexit.register(shutdown)
os.register_at_fork(
    before=lambda: _state_lock.acquire(),
    after_in_parent=lambda: _state_lock.release(),
    after_in_child=_after_fork_in_child,
)
