"""Checkpoints signed behind the appends (issue 23), on SQLite and PostgreSQL.

A process's background signer signs the committed head once 50 events are uncovered (or the
newest checkpoint is 5 s old), in a transaction of its own; the appends keep the promised
bound (100 events or 10 s) themselves, so the rule holds with or without a signer. On
PostgreSQL the signer does not wait for the ``audit_head`` row lock that appends hold.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from flask import Flask

from gateway import gunicorn_conf
from gateway.audit.checkpoints import TREE_LOCK
from gateway.audit.log import AuditEvent, AuditLog
from gateway.services import services_of
from tests.functional.test_audit_log import GGD, SCHOOL, Log


@pytest.fixture
def log(database_url, keys_dir):
    made = Log(database_url, keys_dir)
    yield made
    made.checkpointer.stop_background()
    made.db.dispose()


def _wait_for(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    return condition()


def _one_by_one(log: Log, count: int) -> None:
    for _ in range(count):
        log.append(1)  # each its own transaction: the signer reads only committed events


def test_the_signer_checkpoints_before_the_bound(log):
    log.checkpointer.start_background(log.db)
    _one_by_one(log, 60)
    sizes = _wait_for(lambda: len(log.sizes()) > 1 and log.sizes())
    # the first event finds no checkpoint (the bound); the signer's covers 51 or more events
    # (it was woken at the 51st), all committed then, and no append reached the bound of 101
    assert sizes[0] == 1 and 51 <= sizes[1] <= 60, sizes
    first_signed = sizes[1]
    _one_by_one(log, 100)
    # woken again 50 events after its first: a later checkpoint, never more than 100 apart
    # (the fake clock stands still between appends, so the 5 s wake signs nothing more here)
    sizes = _wait_for(lambda: log.sizes()[-1] > first_signed + 40 and log.sizes()) or log.sizes()
    gaps = [b - a for a, b in zip(sizes, sizes[1:], strict=False)]
    assert sizes[-1] > first_signed + 40 and max(gaps) <= 100, sizes
    report = log.verify()
    assert report.valid and report.invalid_checkpoints == [], report.as_dict()


def test_without_a_signer_the_appends_keep_the_bound(log):
    _one_by_one(log, 60)
    assert log.sizes() == [1]
    _one_by_one(log, 41)
    assert log.sizes() == [1, 101]
    assert log.verify().valid


def test_sign_behind_waits_for_nothing_an_append_holds(log, database_url):
    """An append transaction holds the head lock (uncommitted): the signer still signs the
    committed head (not the pending event) on PostgreSQL; SQLite's one writer must wait, so
    there the test checks the pending event is never covered."""
    _one_by_one(log, 70)
    pending = log.db.sessions()
    event = AuditEvent(action="exchange.send", decision="allowed", actor_org=SCHOOL,
                       sender=SCHOOL, recipient=GGD, message_type="absence_report")
    if log.db.is_sqlite:
        pending.close()
        row = log.checkpointer.sign_behind(log.db)
        assert row.tree_size == 70
        return
    try:
        log.log.append(pending, event, log.now)  # takes the audit_head row lock
        done: list = []
        signer = threading.Thread(target=lambda: done.append(log.checkpointer.sign_behind(log.db)))
        signer.start()
        signer.join(timeout=10)
        assert done and done[0].tree_size == 70, "the signer waited for the append's lock"
    finally:
        pending.rollback()
        pending.close()
    assert log.sizes() == [1, 70] and log.verify().valid


def test_an_append_at_the_bound_waits_for_the_tree_lock(log):
    """Whoever grows the tree holds the tree lock (on SQLite: the one write lock): an append
    that reaches the bound while another holds it waits, then finds the newest checkpoint
    again and signs what is left."""
    _one_by_one(log, 99)
    holder = log.db.sessions()
    holder.execute(AuditLog.LOCK_HEAD if log.db.is_sqlite else TREE_LOCK)
    finished = threading.Event()
    appender = threading.Thread(target=lambda: (log.append(2), finished.set()))
    appender.start()
    assert not finished.wait(0.5), "the append grew the tree without the tree lock"
    holder.rollback()
    holder.close()
    assert finished.wait(10)
    appender.join()
    assert log.sizes() == [1, 101] and log.verify().valid


def test_a_gunicorn_worker_starts_the_signer(app):
    """gateway/gunicorn_conf.py starts it after the fork, for the gateway; a bare Flask app
    under the same settings (a benchmark's baseline) gets none and no error."""
    checkpointer = services_of(app).checkpointer
    try:
        gunicorn_conf.post_worker_init(SimpleNamespace(wsgi=app))
        assert checkpointer._background is not None
        assert checkpointer._background._thread.is_alive()
    finally:
        checkpointer.stop_background()
    gunicorn_conf.post_worker_init(SimpleNamespace(wsgi=Flask("bare")))
