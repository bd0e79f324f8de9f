"""The witness of the newest published checkpoint and the gap after a database restore.

A restore is simulated on SQLite with its own backup API: the database file is copied to a
backup and later copied back over the live one, as ``pg_dump``/``pg_restore`` do on
PostgreSQL (the drill, tests/reliability/test_drill_restore.py, does that for real).
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from gateway.audit.actors import OPERATOR, Actor
from gateway.audit.checkpoints import checkpoint_view, checkpointer_for
from gateway.audit.gaps import GAP_ACKNOWLEDGED, GAP_DETECTED, GapWatch
from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.audit.witness import FORKED, REWOUND, AuditLogRewound, Witness
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.storage.database import Database

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPERATOR_ACTOR = Actor(None, OPERATOR, user="gateway audit acknowledge-gap")


class World:
    """One gateway's audit log over a SQLite file, with its witness in ``tmp_path``."""

    def __init__(self, url: str, keys_dir, witness_path) -> None:
        self.url = url
        self.db = Database(url)
        self.now = START
        keys = KeyStore(keys_dir, allow_generate=False)
        self.witness = Witness(witness_path)
        self.checkpointer = checkpointer_for(keys.audit_key, Settings().base_url, self.witness)
        self.checkpointer.clock = lambda: self.now
        self.log = AuditLog(self.checkpointer)
        self.watch = self.watch_of_another_process()

    def watch_of_another_process(self) -> GapWatch:
        return GapWatch(self.db, self.log, lambda: self.now, self.checkpointer)

    def append(self, count: int) -> None:
        with self.db.write_session() as session:
            for _ in range(count):
                self.now += timedelta(seconds=1)
                event = AuditEvent("exchange.send", "allowed", actor_org="00000001001234567000")
                self.log.append(session, event, self.now)

    def publish(self):
        return self.checkpointer.ensure(self.db)

    def _file(self) -> str:
        return make_url(self.url).database

    def backup(self, path) -> None:
        self.db.dispose()
        with sqlite3.connect(self._file()) as live, sqlite3.connect(path) as copy:
            live.backup(copy)

    def restore(self, path) -> None:
        self.db.dispose()
        with sqlite3.connect(path) as copy, sqlite3.connect(self._file()) as live:
            copy.backup(live)

    def actions(self, action: str) -> list[dict]:
        with self.db.session() as session:
            rows = session.scalars(
                select(AuditEventRow.canonical)
                .where(AuditEventRow.action == action)
                .order_by(AuditEventRow.seq)
            ).all()
        return [json.loads(row) for row in rows]


@pytest.fixture
def world(sqlite_url, keys_dir, tmp_path):
    made = World(sqlite_url, keys_dir, tmp_path / "keys" / "audit-witness.json")
    yield made
    made.db.dispose()


def published(world: World) -> dict:
    return world.witness.read()["checkpoint"]


def test_publishing_moves_the_witness_forward_and_never_back(world, tmp_path):
    world.append(3)
    three = world.publish()
    assert published(world) == checkpoint_view(three)
    world.append(2)
    five = world.publish()
    assert published(world)["tree_size"] == 5
    assert published(world)["root_hash"] == five.root_hash
    world.checkpointer.publish(world.db, three)  # an older checkpoint handed out again
    assert published(world)["tree_size"] == 5
    assert [p.name for p in (tmp_path / "keys").iterdir() if p.name.endswith(".tmp")] == []


def test_a_restore_below_the_published_checkpoint_is_a_gap_and_refuses_checkpoints(
    world, tmp_path
):
    world.append(3)
    world.publish()
    world.backup(tmp_path / "backup.db")
    world.append(3)
    six = world.publish()
    assert world.watch.current() is None

    world.restore(tmp_path / "backup.db")
    gap = world.watch.current()
    assert (gap.kind, gap.published_size, gap.published_root, gap.log_size) == (
        REWOUND, 6, six.root_hash, 3
    )
    with pytest.raises(AuditLogRewound) as refused:
        world.publish()
    assert (refused.value.status, refused.value.code) == (503, "audit_log_rewound")
    # the witness did not follow the database back
    assert published(world)["tree_size"] == 6


def test_the_gap_is_recorded_once_however_often_and_by_whichever_process_sees_it(
    world, tmp_path
):
    world.append(3)
    world.backup(tmp_path / "backup.db")
    world.append(3)
    six = world.publish()
    world.restore(tmp_path / "backup.db")
    for watch in (world.watch, world.watch, world.watch_of_another_process()):
        assert watch.current() is not None
    (event,) = world.actions(GAP_DETECTED)
    assert event["reason"] == (
        f"published checkpoint 6 {six.root_hash}; rewound: the log had 3 entries"
    )
    assert event["actor"] == {"org": None, "client_id": None, "user": "gateway"}
    assert event["subject_commitment"] is None


def test_a_restored_log_that_grew_past_the_published_size_is_a_fork(world, tmp_path):
    world.append(3)
    world.backup(tmp_path / "backup.db")
    world.append(3)
    six = world.publish()
    world.restore(tmp_path / "backup.db")
    world.append(3)  # new traffic after the restore: 6 entries again, but other ones
    fork = world.checkpointer._ensure(world.db)  # signed unchecked: the same size, another root
    assert (fork.tree_size, fork.root_hash != six.root_hash) == (6, True)
    gap = world.watch_of_another_process().current()
    assert (gap.kind, gap.published_root, gap.log_size) == (FORKED, six.root_hash, 6)
    world.append(5)  # and past it
    assert world.watch.current().kind == FORKED


def test_acknowledging_moves_the_witness_to_the_head_and_resumes_publishing(world, tmp_path):
    world.append(3)
    assert world.watch.acknowledge(OPERATOR_ACTOR, "nothing to acknowledge") is None
    assert world.actions(GAP_ACKNOWLEDGED) == []
    world.backup(tmp_path / "backup.db")
    world.append(3)
    six = world.publish()
    world.restore(tmp_path / "backup.db")
    with pytest.raises(ValueError):
        world.watch.acknowledge(OPERATOR_ACTOR, "   ")

    done = world.watch.acknowledge(OPERATOR_ACTOR, "Restored the backup of 02:00.")
    (event,) = world.actions(GAP_ACKNOWLEDGED)
    assert event["reason"] == (
        f"published checkpoint 6 {six.root_hash}; Restored the backup of 02:00."
    )
    assert event["actor"]["user"] == "gateway audit acknowledge-gap"
    head = event["seq"]
    assert done["checkpoint"]["tree_size"] == head
    assert published(world)["tree_size"] == head
    assert world.watch.current() is None
    assert world.publish().tree_size >= head
    answer = world.watch.checkpoint()
    assert answer["gap"] is None and answer["checkpoint"]["tree_size"] >= head
    (rewind,) = answer["rewinds"]
    assert (rewind["published_size"], rewind["published_root"]) == (6, six.root_hash)
    assert rewind["new_checkpoint_size"] == head


def test_the_checkpoint_answer_shows_the_gap_instead_of_a_checkpoint(world, tmp_path):
    world.append(2)
    world.backup(tmp_path / "backup.db")
    world.append(2)
    four = world.publish()
    world.restore(tmp_path / "backup.db")
    answer = world.watch.checkpoint()
    assert answer["checkpoint"] is None and answer["rewinds"] == []
    assert answer["gap"] == {
        "kind": REWOUND,
        "published_size": 4,
        "published_root": four.root_hash,
        "log_size": 2,
        "published_checkpoint": checkpoint_view(four),
    }


def test_another_log_beside_the_same_keys_is_not_a_gap(world, sqlite_url, keys_dir, tmp_path):
    """An emptied database (a test's, a demo's) starts another log: its first entry differs,
    so the witness starts over with that log instead of refusing it (a documented limit)."""
    world.append(4)
    world.publish()
    world.db.dispose()
    from tests.conftest import empty_tables

    empty_tables(sqlite_url)
    other = World(sqlite_url, keys_dir, tmp_path / "keys" / "audit-witness.json")
    other.now = START + timedelta(days=1)
    assert other.watch.current() is None  # empty
    other.append(2)
    assert other.watch.current() is None
    assert other.publish().tree_size == 2
    assert published(other)["tree_size"] == 2
    other.db.dispose()


def test_a_read_only_witness_directory_is_logged_and_the_log_still_publishes(
    sqlite_url, keys_dir, tmp_path, caplog
):
    """Keys mounted read-only (a Kubernetes Secret): the audit API must keep answering."""
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(0o500)
    made = World(sqlite_url, keys_dir, locked / "audit-witness.json")
    try:
        made.append(2)
        with caplog.at_level("ERROR", logger="gateway.audit.witness"):
            if os.geteuid() == 0:  # root writes anyway: make the write itself fail
                made.witness._write = _raise_read_only
            assert made.publish().tree_size == 2
            made.append(1)
            assert made.publish().tree_size == 3
        assert made.witness.read() is None and made.watch.current() is None
        (record,) = [r for r in caplog.records if "cannot be written" in r.getMessage()]
        assert "will not be detected" in record.getMessage()
    finally:
        locked.chmod(0o700)
        made.db.dispose()


def _raise_read_only(state: dict) -> None:
    raise OSError(30, "Read-only file system")


def test_the_acknowledge_command_refuses_without_a_gap_and_ends_one(
    sqlite_url, keys_dir, tmp_path, monkeypatch
):
    """``gateway audit acknowledge-gap`` through click, on the gateway's own composition (the
    witness in its keys directory, a copy here so no other test shares it)."""
    import shutil

    from click.testing import CliRunner

    from gateway.cli import main

    keys = tmp_path / "keys"
    shutil.copytree(keys_dir, keys)
    (keys / "audit-witness.json").unlink(missing_ok=True)
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys))
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    runner = CliRunner()
    world = World(sqlite_url, keys, keys / "audit-witness.json")
    world.now = datetime.now(UTC)
    world.append(2)
    assert runner.invoke(main, ["audit", "checkpoint"]).exit_code == 0  # published: 2
    refused = runner.invoke(main, ["audit", "acknowledge-gap", "--reason", "no gap"])
    assert refused.exit_code == 1 and "no gap" in refused.output
    assert runner.invoke(main, ["audit", "acknowledge-gap"]).exit_code == 2  # --reason needed

    world.backup(tmp_path / "backup.db")
    world.append(2)
    assert runner.invoke(main, ["audit", "checkpoint"]).exit_code == 0  # published: 4
    world.restore(tmp_path / "backup.db")
    blocked = runner.invoke(main, ["audit", "checkpoint"])
    assert blocked.exit_code != 0 and "audit_log_rewound" in blocked.output
    done = runner.invoke(main, ["audit", "acknowledge-gap", "--reason", "Drill."])
    assert done.exit_code == 0, done.output
    assert "gap acknowledged: published 4 entries, log had" in done.output
    assert runner.invoke(main, ["audit", "checkpoint"]).exit_code == 0
    assert [e["action"] for e in world.actions(GAP_DETECTED)] == [GAP_DETECTED]
    assert len(world.actions(GAP_ACKNOWLEDGED)) == 1
    world.db.dispose()


def test_the_witness_goes_where_the_setting_says(keys_dir, tmp_path):
    """GATEWAY_AUDIT_WITNESS moves the witness off the keys directory (which a deployment
    mounts read-only) to a writable volume; without it, it sits beside the keys."""
    from gateway.composition import Services
    from gateway.config import Settings

    moved = tmp_path / "witness" / "audit-witness.json"
    environ = {"GATEWAY_KEYS_DIR": str(keys_dir), "GATEWAY_INSTANCE_DIR": str(tmp_path)}
    placed = Services(Settings.from_env({**environ, "GATEWAY_AUDIT_WITNESS": str(moved)}))
    assert placed.checkpointer.witness.path == moved
    beside = Services(Settings.from_env(environ))
    assert beside.checkpointer.witness.path == keys_dir / "audit-witness.json"
