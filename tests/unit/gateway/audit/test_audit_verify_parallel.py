"""Verification split across processes (gateway.audit.verify_parallel) answers exactly as the
serial pass: a valid log is settled by the forked parts, and every tampering the serial pass
finds makes the parallel pass hand the log back, so the report (first invalid entry, problem,
invalid checkpoints, newest checkpoint) is the serial one.

The log has 230 entries and checkpoints at 1, 101 and 201; with two processes it is cut at
101, with three at 1 and 101, so tampering lands in every part and on the cuts.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from gateway.audit import verify_parallel
from gateway.audit.models import AuditCheckpointRow
from gateway.audit.note import CheckpointBody
from gateway.audit.verify import ChainVerifier
from tests.functional.test_audit_log import Log, rewrite

GGD_OTHER = "00000001004567890000"


@pytest.fixture
def log(database_url, keys_dir):
    made = Log(database_url, keys_dir)
    made.append(230)
    yield made
    made.db.dispose()


@pytest.fixture
def settled(monkeypatch):
    """What each parallel attempt returned: a checkpoint size when it settled the log."""
    answers: list[int | None] = []
    original = verify_parallel.run

    def spy(*args):
        answers.append(original(*args))
        return answers[-1]

    monkeypatch.setattr(verify_parallel, "run", spy)
    return answers


def reports(log: Log, workers: int) -> tuple[dict, dict]:
    key = log.checkpointer.signer.public_key
    serial = ChainVerifier(log.db, key, batch=64, workers=1).verify()
    parallel = ChainVerifier(log.db, key, batch=64, workers=workers, parallel_from=1).verify()
    return serial.as_dict(), parallel.as_dict()


def edit(log: Log, seq: int, **changes) -> None:
    """Rewrite entry ``seq`` together with its hash (its own checks still hold)."""
    new, digest = rewrite(log.row(seq)[0], **changes)
    log.sql(
        "UPDATE audit_events SET canonical = :c, hash = :h WHERE seq = :s", c=new, h=digest, s=seq
    )


@pytest.mark.parametrize("workers", [2, 3])
def test_a_valid_log_is_settled_by_the_parts(log, settled, workers):
    serial, parallel = reports(log, workers)
    assert settled == [201], "the parallel pass did not settle a valid log"
    assert parallel == serial and parallel["valid"]
    assert parallel["checkpoint"]["tree_size"] == 201


def test_a_short_log_stays_in_this_process(log, settled):
    key = log.checkpointer.signer.public_key
    assert ChainVerifier(log.db, key, workers=2).verify().valid  # 230 < PARALLEL_FROM
    assert settled == []


def test_a_threaded_process_does_not_fork_unless_told(log, settled, monkeypatch):
    """By default a process with other threads (a web server's) verifies serially."""
    monkeypatch.setattr(verify_parallel.threading, "active_count", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # a machine with one core never forks
    key = log.checkpointer.signer.public_key
    assert ChainVerifier(log.db, key, parallel_from=1).verify().valid
    assert settled == []
    monkeypatch.setattr(verify_parallel.threading, "active_count", lambda: 1)
    assert ChainVerifier(log.db, key, parallel_from=1).verify().valid
    assert settled == [201]


TAMPERING = {
    "a field in the first part": lambda log: log.sql(
        "UPDATE audit_events SET canonical = replace(canonical, :a, :b) WHERE seq = 57",
        a="00000001003456789000",
        b=GGD_OTHER,
    ),
    "a field in the second part": lambda log: log.sql(
        "UPDATE audit_events SET canonical = replace(canonical, :a, :b) WHERE seq = 150",
        a="00000001003456789000",
        b=GGD_OTHER,
    ),
    "a field and its hash at 1": lambda log: edit(log, 1, recipient=GGD_OTHER),
    "a field and its hash at a cut": lambda log: edit(log, 101, recipient=GGD_OTHER),
    "a field and its hash after a cut": lambda log: edit(log, 102, recipient=GGD_OTHER),
    "a field and its hash past the newest checkpoint": lambda log: edit(
        log, 215, recipient=GGD_OTHER
    ),
    "the last entry and its hash": lambda log: edit(log, 230, recipient=GGD_OTHER),
    "a prev_hash": lambda log: edit(log, 150, prev_hash="ab" * 32),
    "a deleted first entry": lambda log: log.sql("DELETE FROM audit_events WHERE seq = 1"),
    "a deleted cut entry": lambda log: log.sql("DELETE FROM audit_events WHERE seq = 101"),
    "a deleted entry after a cut": lambda log: log.sql("DELETE FROM audit_events WHERE seq = 102"),
    "a deleted last entry": lambda log: log.sql("DELETE FROM audit_events WHERE seq = 230"),
    "a filter column in the first part": lambda log: log.sql(
        "UPDATE audit_events SET decision = 'denied' WHERE seq = 7"
    ),
    "a filter column in the second part": lambda log: log.sql(
        "UPDATE audit_events SET recipient = :r WHERE seq = 160", r=GGD_OTHER
    ),
    "a subject_ref": lambda log: log.sql(
        "UPDATE audit_events SET subject_ref = :r WHERE seq = 120", r="T" * 35
    ),
    "a row moved below 1": lambda log: log.sql("UPDATE audit_events SET seq = -1 WHERE seq = 60"),
}


def _rewrite_the_rest(log: Log) -> None:
    """Entry 120 rewritten and every later entry re-chained, head included: only the signed
    root of checkpoint 201 tells, and the stored leaves name the entry."""
    previous = log.row(119)[1]
    with log.db.engine.begin() as connection:
        rows = connection.execute(
            text("SELECT seq, canonical FROM audit_events WHERE seq >= 120 ORDER BY seq")
        ).all()
        for seq, canonical in rows:
            changes = {"prev_hash": previous}
            if seq == 120:
                changes["recipient"] = GGD_OTHER
            new, previous = rewrite(canonical, **changes)
            connection.execute(
                text("UPDATE audit_events SET canonical = :c, hash = :h WHERE seq = :s"),
                {"c": new, "h": previous, "s": seq},
            )
        connection.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": previous})
        connection.execute(
            text("UPDATE audit_events SET recipient = :r WHERE seq = 120"), {"r": GGD_OTHER}
        )


def _swap(log: Log, seq: int) -> None:
    first, second = log.row(seq), log.row(seq + 1)
    with log.db.engine.begin() as connection:
        for target, (canonical, digest) in ((seq, second), (seq + 1, first)):
            connection.execute(
                text("UPDATE audit_events SET canonical = :c, hash = :h WHERE seq = :s"),
                {"c": canonical, "h": digest, "s": target},
            )


def _forge_signature(log: Log, size: int) -> None:
    with log.db.session() as session:
        note = session.get(AuditCheckpointRow, size).note
    body, signature = note.rsplit(" ", 1)
    forged = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    log.sql(
        "UPDATE audit_checkpoints SET note = :n WHERE tree_size = :s", n=f"{body} {forged}", s=size
    )


def _wrong_root(log: Log, size: int) -> None:
    body = CheckpointBody(log.checkpointer.signer.name, size, b"\x42" * 32, "2026-03-02T09:00:01Z")
    log.sql(
        "UPDATE audit_checkpoints SET note = :n, root_hash = :r WHERE tree_size = :s",
        n=log.checkpointer.signer.sign(body),
        r="42" * 32,
        s=size,
    )


def _rewind_head(log: Log) -> None:
    log.sql("DELETE FROM audit_events WHERE seq > 195")
    log.sql("UPDATE audit_head SET seq = 195, hash = :h WHERE id = 1", h=log.row(195)[1])


TAMPERING.update(
    {
        "the rest of the chain rewritten": _rewrite_the_rest,
        "two rows swapped in the first part": lambda log: _swap(log, 40),
        "two rows swapped across a cut": lambda log: _swap(log, 101),
        "two rows swapped in the last part": lambda log: _swap(log, 228),
        "a forged signature on a cut": lambda log: _forge_signature(log, 101),
        "a forged signature on the newest checkpoint": lambda log: _forge_signature(log, 201),
        "a wrong signed root on a cut": lambda log: _wrong_root(log, 101),
        "a wrong signed root in the last part": lambda log: _wrong_root(log, 201),
    }
)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("tampering", sorted(TAMPERING))
def test_tampering_gets_the_serial_report(log, settled, tampering, workers):
    TAMPERING[tampering](log)
    serial, parallel = reports(log, workers)
    assert not serial["valid"], "the tampering case does not tamper"
    assert parallel == serial
    assert all(answer is None for answer in settled), "the parallel pass settled a broken log"


@pytest.mark.parametrize("workers", [2, 3])
def test_a_head_wound_back_below_a_checkpoint(log, settled, workers):
    """The entries up to the wound-back head are intact, so the parts settle them; the
    checkpoint beyond the head is then found by the checks both passes share."""
    _rewind_head(log)
    serial, parallel = reports(log, workers)
    assert not serial["valid"] and serial["first_invalid_seq"] == 196
    assert parallel == serial
    assert settled == [101]


@pytest.mark.parametrize("workers", [2, 3])
def test_a_stored_tree_node_the_parts_start_from_is_checked(log, settled, workers):
    """A later part starts from the stored nodes of the tree at its cut; a changed node
    (which the serial pass never reads on a valid log) must not pass for the computed one:
    the parts do not join, and the serial pass decides (valid)."""
    log.sql("UPDATE audit_tree_nodes SET hash = :h WHERE level = 6 AND idx = 0", h=b"\x42" * 32)
    serial, parallel = reports(log, workers)
    assert serial["valid"] and parallel == serial
    assert settled == [None]


def test_a_child_that_fails_hands_the_log_to_the_serial_pass(log, settled, monkeypatch):
    """A child that raises (a lost connection, say) exits with a status, sends nothing, and
    the serial pass verifies instead."""
    original = ChainVerifier._check_part
    parent = os.getpid()

    def failing_in_children(self, part):
        if os.getpid() != parent:
            raise RuntimeError("the database went away")
        return original(self, part)

    monkeypatch.setattr(ChainVerifier, "_check_part", failing_in_children)
    serial, parallel = reports(log, 2)
    assert parallel == serial and parallel["valid"]
    assert settled == [None]
