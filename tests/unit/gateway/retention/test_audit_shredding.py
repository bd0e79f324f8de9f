"""Crypto-shredding of audit events' child references (docs/audit-design.md section 6) and
what verify makes of the result, on each database backend.

A shredded row has ``subject_ref``, ``subject_opening`` and both naming indexes null; its
``canonical`` and ``hash``, the stored tree and every signed checkpoint are as before, so the
chain verifies. Verify reads "both null" as "no child or shredded" and still refuses a row
with only one of the two erased: a half-erased row is tampering, not shredding.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from gateway.audit import shredding
from gateway.audit.checkpoints import checkpointer_for
from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditCheckpointRow, AuditEventRow, AuditTreeNode
from gateway.audit.verify import ChainVerifier
from gateway.audit.witness import Witness
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.storage.database import Database

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SCHOOL, LEERPLICHT = "00000001001234567000", "00000001005678901000"
CHILD, OTHER = "audit-ref-of-the-child", "audit-ref-of-another-child"
YEAR = timedelta(days=365)


def term(purpose):
    """One year for leerplicht_enforcement, two for everything else (a test's own terms)."""
    return YEAR if purpose == "leerplicht_enforcement" else 2 * YEAR


class World:
    def __init__(self, url, keys_dir, tmp_path):
        self.db = Database(url)
        keys = KeyStore(keys_dir, allow_generate=False)
        self.checkpointer = checkpointer_for(
            keys.audit_key, Settings().base_url, Witness(tmp_path / "witness.json")
        )
        self.log = AuditLog(self.checkpointer)
        self.public_key = self.checkpointer.signer.public_key

    def append(self, at, subject_ref=None, purpose=None, action="exchange.send"):
        event = AuditEvent(
            action, "allowed", actor_org=SCHOOL, sender=SCHOOL, recipient=LEERPLICHT,
            purpose=purpose, subject_ref=subject_ref,
            clear_to=(SCHOOL, LEERPLICHT) if subject_ref else (),
        )
        with self.db.write_session() as session:
            return self.log.append(session, event, at).seq

    def rows(self):
        with self.db.session() as session:
            return {
                row.seq: row
                for row in session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))
            }

    def verify(self):
        return ChainVerifier(self.db, self.public_key).verify()

    def shred(self, now, held=lambda session, refs: set(), dry_run=False):
        return shredding.shred_due(
            self.db, now, term, YEAR, held, batch=2, dry_run=dry_run
        )


@pytest.fixture
def world(database_url, keys_dir, tmp_path):
    made = World(database_url, keys_dir, tmp_path)
    yield made
    made.db.dispose()


def fill(world):
    """Events of two children over time, one without a child; a signed checkpoint over all."""
    seqs = {
        "old_leerplicht": world.append(START, CHILD, "leerplicht_enforcement"),
        "old_support": world.append(START + timedelta(hours=1), CHILD, "support"),
        "old_no_child": world.append(START + timedelta(hours=2)),
        "old_other": world.append(START + timedelta(hours=3), OTHER, "leerplicht_enforcement"),
        "recent": world.append(START + YEAR, CHILD, "leerplicht_enforcement"),
    }
    world.checkpointer.ensure(world.db)
    return seqs


def snapshot(world):
    with world.db.session() as session:
        events = session.execute(
            select(AuditEventRow.seq, AuditEventRow.canonical, AuditEventRow.hash)
        ).all()
        nodes = session.execute(select(AuditTreeNode.level, AuditTreeNode.idx, AuditTreeNode.hash)).all()
        notes = session.execute(select(AuditCheckpointRow.tree_size, AuditCheckpointRow.note)).all()
    return sorted(events), sorted(nodes), sorted(notes)


def test_events_past_their_term_lose_every_child_column_and_nothing_else(world):
    seqs = fill(world)
    before = snapshot(world)
    count = world.shred(START + YEAR + timedelta(hours=4))
    rows = world.rows()
    # one year on: the leerplicht events of both children are due, the support one (two
    # years) and the recent one are not
    assert count.events == 2
    for name in ("old_leerplicht", "old_other"):
        row = rows[seqs[name]]
        assert (row.subject_ref, row.subject_opening) == (None, None)
        assert (row.subject_clear_to, row.subject_pseudonym_to) == (None, None)
    for name in ("old_support", "recent"):
        assert rows[seqs[name]].subject_ref == CHILD and rows[seqs[name]].subject_opening
        assert rows[seqs[name]].subject_clear_to == f",{SCHOOL},{LEERPLICHT},"
    assert snapshot(world) == before
    report = world.verify()
    assert report.valid, report.problem
    assert report.checkpoint is not None and report.checkpoint.tree_size == len(seqs)


def test_a_second_run_shreds_nothing(world):
    fill(world)
    now = START + 3 * YEAR
    assert world.shred(now).events == 4
    shredded = world.rows()
    assert world.shred(now).events == 0
    assert {s: (r.subject_ref, r.subject_opening) for s, r in world.rows().items()} == {
        s: (r.subject_ref, r.subject_opening) for s, r in shredded.items()
    }


def test_a_dry_run_counts_and_changes_nothing(world):
    fill(world)
    now = START + 3 * YEAR
    before = {s: (r.subject_ref, r.subject_opening) for s, r in world.rows().items()}
    assert world.shred(now, dry_run=True).events == 4
    assert {s: (r.subject_ref, r.subject_opening) for s, r in world.rows().items()} == before


def test_a_child_with_a_record_still_kept_is_held(world):
    seqs = fill(world)
    count = world.shred(START + 3 * YEAR, held=lambda session, refs: refs & {CHILD})
    rows = world.rows()
    assert count.events == 1 and count.held == 3
    assert rows[seqs["old_other"]].subject_ref is None
    assert all(rows[seqs[n]].subject_ref == CHILD for n in ("old_leerplicht", "old_support", "recent"))


@pytest.mark.parametrize(
    ("erased", "valid"),
    [
        ({"subject_ref": None, "subject_opening": None}, True),
        ({"subject_opening": None}, False),
        ({"subject_ref": None}, False),
    ],
)
def test_verify_reads_both_null_as_shredded_and_one_null_as_tampering(world, erased, valid):
    seqs = fill(world)
    with world.db.write_session() as session:
        session.execute(
            update(AuditEventRow).where(AuditEventRow.seq == seqs["old_support"]).values(erased)
        )
    report = world.verify()
    assert report.valid is valid, report.problem
    if not valid:
        assert report.first_invalid_seq == seqs["old_support"]
        assert "subject_ref" in report.problem
