"""The verifiable audit log on SQLite and PostgreSQL: checkpoints, verification, tampering,
proofs checked with the independent RFC 9162 verifier.

Each tampering test alters the stored rows with plain SQL, as an intruder with database access
would, and checks that verification names the exact first invalid sequence number.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ed25519
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text

from gateway.audit.checkpoints import CheckpointUnavailable, checkpointer_for
from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditCheckpointRow, AuditTreeNode
from gateway.audit.note import CheckpointBody, NoteSigner
from gateway.audit.proofs import ProofService
from gateway.audit.verify import ChainVerifier
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.problems import GatewayError
from gateway.storage.database import Database
from tests.audit_helpers import VIEW_MEMBERS
from tests.unit.gateway.audit.test_audit_rfc9162 import verify_consistency, verify_inclusion

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SCHOOL = "00000001001234567000"
GGD = "00000001003456789000"


class Log:
    """An audit log over one database with a fake clock (one tick per event)."""

    def __init__(self, url: str, keys_dir):
        self.db = Database(url)
        self.keys = KeyStore(keys_dir, allow_generate=False)
        self.now = START
        self.checkpointer = checkpointer_for(self.keys.audit_key, Settings().base_url)
        self.checkpointer.clock = lambda: self.now
        self.log = AuditLog(self.checkpointer)

    def append(self, count: int = 1, step=timedelta(milliseconds=10), **fields) -> list:
        """``count`` events in one transaction (a commit costs milliseconds on PostgreSQL)."""
        receipts = []
        with self.db.write_session() as session:
            for _ in range(count):
                receipts.append(self._append(session, step, fields))
        return receipts

    def _append(self, session, step, fields):
        self.now += step
        event = AuditEvent(
            action=fields.get("action", "exchange.send"),
            decision=fields.get("decision", "allowed"),
            actor_org=SCHOOL, actor_client_id="sis", sender=SCHOOL, recipient=GGD,
            message_type="absence_report", purpose="leerplicht_enforcement",
            legal_basis={"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"},
            fields_forwarded=["absence_type", "birth_year"],
            fields_generalised=["date_of_birth->birth_year"],
            subject_ref="S" * 35,
        )
        return self.log.append(session, event, self.now)

    def verify(self):
        return ChainVerifier(self.db, self.checkpointer.signer.public_key, batch=64).verify()

    def sizes(self) -> list[int]:
        with self.db.session() as session:
            return list(session.scalars(
                select(AuditCheckpointRow.tree_size).order_by(AuditCheckpointRow.tree_size)))

    def sql(self, statement: str, **values) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(text(statement), values)

    def row(self, seq: int) -> tuple[str, str]:
        with self.db.engine.connect() as connection:
            return tuple(connection.execute(
                text("SELECT canonical, hash FROM audit_events WHERE seq = :s"), {"s": seq}).one())


@pytest.fixture
def log(database_url, keys_dir):
    made = Log(database_url, keys_dir)
    yield made
    made.db.dispose()


def rewrite(canonical: str, **changes) -> tuple[str, str]:
    event = json.loads(canonical)
    event.update(changes)
    new = rfc8785.dumps(event).decode()
    return new, hashlib.sha256(new.encode()).hexdigest()


def test_checkpoints_every_100_events_and_after_10_seconds(log):
    log.append(250)
    # the first event finds no checkpoint at all; then every 100 events
    assert log.sizes() == [1, 101, 201]
    log.append(1, step=timedelta(seconds=11))
    assert log.sizes() == [1, 101, 201, 251]
    log.append(5, step=timedelta(seconds=1))
    assert log.sizes()[-1] == 251
    log.append(5, step=timedelta(seconds=1))
    assert log.sizes()[-1] == 261  # ten seconds after the checkpoint of 251
    with log.db.session() as session:
        newest = session.get(AuditCheckpointRow, 261)
        assert newest.note.splitlines()[1] == "261"
        assert session.scalar(select(func.count()).select_from(AuditTreeNode)) >= 261


def test_a_rolled_back_append_leaves_no_checkpoint(log):
    log.append(100)
    with pytest.raises(RuntimeError), log.db.write_session() as session:
        log.log.append(session, AuditEvent(action="exchange.send", decision="allowed"), log.now)
        assert session.get(AuditCheckpointRow, 101) is not None  # made with the event
        raise RuntimeError("the message insert failed")
    assert log.sizes() == [1]
    receipt = log.append(1)[0]
    assert receipt.seq == 101
    assert log.sizes() == [1, 101]
    assert log.verify().valid


def test_a_valid_log_verifies_and_sets_the_gauge(log):
    receipts = log.append(230)
    report = log.verify()
    assert report.valid and report.first_invalid_seq is None
    assert report.entries == 230 and report.head_hash == receipts[-1].hash
    assert report.checkpoint.tree_size == 201 and report.invalid_checkpoints == []
    assert REGISTRY.get_sample_value("gateway_audit_chain_valid") == 1
    answer = report.as_dict()
    assert answer["checkpoint"]["tree_size"] == 201 and answer["checkpoint"]["note"]


def test_an_empty_log_is_valid(log):
    report = log.verify()
    assert report.valid and report.entries == 0 and report.head_hash == "0" * 64
    assert log.checkpointer.ensure(log.db) is None


@pytest.mark.parametrize("seq", [57, 228])
def test_changing_a_field_is_found_at_that_entry(log, seq):
    log.append(230)
    canonical, _ = log.row(seq)
    log.sql("UPDATE audit_events SET canonical = :c WHERE seq = :s",
            c=canonical.replace(GGD, "00000001004567890000"), s=seq)
    report = log.verify()
    assert not report.valid and report.first_invalid_seq == seq
    assert REGISTRY.get_sample_value("gateway_audit_chain_valid") == 0


@pytest.mark.parametrize("seq", [1, 57, 215, 230])
def test_changing_a_field_and_its_hash_is_found_at_that_entry(log, seq):
    """Also past the newest checkpoint (201) and for the last entry (the head names it)."""
    log.append(230)
    canonical, _ = log.row(seq)
    new, digest = rewrite(canonical, recipient="00000001004567890000")
    log.sql("UPDATE audit_events SET canonical = :c, hash = :h WHERE seq = :s",
            c=new, h=digest, s=seq)
    report = log.verify()
    assert not report.valid and report.first_invalid_seq == seq, report.problem


def test_changing_only_a_prev_hash_is_found_at_that_entry(log):
    log.append(230)
    canonical, _ = log.row(215)
    new, digest = rewrite(canonical, prev_hash="ab" * 32)
    log.sql("UPDATE audit_events SET canonical = :c, hash = :h WHERE seq = 215", c=new, h=digest)
    assert log.verify().first_invalid_seq == 215


def test_rewriting_the_rest_of_the_chain_is_caught_by_the_signed_root(log):
    """An intruder rewrites entry 120 and re-chains every later entry and the head: the hash
    chain is consistent again, but checkpoint 201 no longer matches, and the stored leaves
    locate the first altered entry."""
    log.append(230)
    previous = log.row(119)[1]
    with log.db.engine.begin() as connection:
        rows = connection.execute(
            text("SELECT seq, canonical FROM audit_events WHERE seq >= 120 ORDER BY seq")).all()
        for seq, canonical in rows:
            changes = {"prev_hash": previous}
            if seq == 120:
                changes["recipient"] = "00000001004567890000"
            new, previous = rewrite(canonical, **changes)
            connection.execute(text("UPDATE audit_events SET canonical = :c, hash = :h WHERE seq = :s"),
                               {"c": new, "h": previous, "s": seq})
        connection.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": previous})
        # a thorough intruder also rewrites the filter column (verify checks it against the event)
        connection.execute(text("UPDATE audit_events SET recipient = :r WHERE seq = 120"),
                           {"r": "00000001004567890000"})
    report = log.verify()
    assert not report.valid and report.first_invalid_seq == 120
    assert 201 in report.invalid_checkpoints


@pytest.mark.parametrize("seq", [1, 215])
def test_deleting_a_row_is_found_at_its_number(log, seq):
    log.append(230)
    log.sql("DELETE FROM audit_events WHERE seq = :s", s=seq)
    assert log.verify().first_invalid_seq == seq


def test_deleting_the_last_rows_is_found(log):
    log.append(230)
    log.sql("DELETE FROM audit_events WHERE seq = 230")
    assert log.verify().first_invalid_seq == 230
    # also when the intruder winds the head back: checkpoint 201 outlives the deleted rows
    log.sql("DELETE FROM audit_events WHERE seq > 195")
    canonical, digest = log.row(195)
    log.sql("UPDATE audit_head SET seq = 195, hash = :h WHERE id = 1", h=digest)
    report = log.verify()
    assert not report.valid and report.first_invalid_seq == 196
    assert 201 in report.invalid_checkpoints


@pytest.mark.parametrize("seq", [40, 228])
def test_reordering_two_rows_is_found_where_the_order_breaks(log, seq):
    log.append(230)
    first, second = log.row(seq), log.row(seq + 1)
    with log.db.engine.begin() as connection:
        for target, (canonical, digest) in ((seq, second), (seq + 1, first)):
            connection.execute(text("UPDATE audit_events SET canonical = :c, hash = :h WHERE seq = :s"),
                               {"c": canonical, "h": digest, "s": target})
    assert log.verify().first_invalid_seq == seq


def test_swapping_sequence_numbers_is_found(log):
    log.append(120)
    log.sql("UPDATE audit_events SET seq = -1 WHERE seq = 60")
    log.sql("UPDATE audit_events SET seq = 60 WHERE seq = 61")
    log.sql("UPDATE audit_events SET seq = 61 WHERE seq = -1")
    assert log.verify().first_invalid_seq == 60


def test_a_forged_checkpoint_signature_is_detected(log):
    log.append(230)
    with log.db.session() as session:
        note = session.get(AuditCheckpointRow, 101).note
    text_part, signature = note.rsplit(" ", 1)
    forged = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    log.sql("UPDATE audit_checkpoints SET note = :n WHERE tree_size = 101", n=f"{text_part} {forged}")
    report = log.verify()
    assert not report.valid and report.invalid_checkpoints == [101]
    assert report.first_invalid_seq is None  # the entries themselves are intact
    assert report.checkpoint.tree_size == 201


def test_a_checkpoint_signed_by_another_key_is_detected(log):
    log.append(150)
    with log.db.session() as session:
        row = session.get(AuditCheckpointRow, 101)
        body = CheckpointBody(log.checkpointer.signer.name, 101, bytes.fromhex(row.root_hash),
                              "2026-03-02T09:00:01.010000Z")
    intruder = NoteSigner(ed25519.Ed25519PrivateKey.generate(), log.checkpointer.signer.name)
    log.sql("UPDATE audit_checkpoints SET note = :n WHERE tree_size = 101", n=intruder.sign(body))
    report = log.verify()
    assert not report.valid and report.invalid_checkpoints == [101]


def test_a_checkpoint_with_a_wrong_root_is_detected(log):
    log.append(150)
    body = CheckpointBody(log.checkpointer.signer.name, 101, b"\x42" * 32, "2026-03-02T09:00:01Z")
    # even correctly signed, a root that the entries do not give is an invalid checkpoint
    log.sql("UPDATE audit_checkpoints SET note = :n, root_hash = :r WHERE tree_size = 101",
            n=log.checkpointer.signer.sign(body), r=("42" * 32))
    report = log.verify()
    assert not report.valid and 101 in report.invalid_checkpoints


def test_no_checkpoint_is_signed_over_a_broken_chain(log):
    log.append(150)
    log.sql("DELETE FROM audit_events WHERE seq = 120")
    with pytest.raises(CheckpointUnavailable) as broken:
        log.checkpointer.ensure(log.db)
    assert broken.value.seq == 120
    log.append(60)  # the append path logs and goes on: business transactions never fail
    assert log.sizes() == [1, 101]


def test_inclusion_proofs_verify_independently_from_the_event_alone(log):
    log.append(230)
    proofs = ProofService(log.db, log.checkpointer)
    for seq in (1, 2, 64, 101, 150, 201):
        canonical, digest = log.row(seq)
        # what a reader gets from the API: the event with its hash; drop hash, JCS, hash it
        event = json.loads(canonical) | {"hash": digest}
        without = {k: v for k, v in event.items() if k not in VIEW_MEMBERS}
        entry = rfc8785.dumps(without)
        assert hashlib.sha256(entry).hexdigest() == digest
        leaf = hashlib.sha256(b"\x00" + entry).digest()
        for size in (s for s in (101, 201) if s >= seq):
            proof = proofs.inclusion(seq, size)
            assert proof["leaf_hash"] == leaf.hex() and proof["leaf_index"] == seq - 1
            path = [bytes.fromhex(h) for h in proof["audit_path"]]
            root = bytes.fromhex(proof["root_hash"])
            assert verify_inclusion(seq - 1, size, leaf, path, root)
            assert not verify_inclusion(seq - 1, size, hashlib.sha256(b"\x00changed").digest(),
                                        path, root)


def test_inclusion_without_a_size_signs_a_checkpoint_when_none_covers_the_entry(log):
    log.append(230)
    proofs = ProofService(log.db, log.checkpointer)
    assert proofs.inclusion(150)["tree_size"] == 201
    proof = proofs.inclusion(225)
    assert proof["tree_size"] == 230 and proof["checkpoint"]["tree_size"] == 230
    assert log.sizes()[-1] == 230 and log.verify().valid


def test_proof_parameters_are_checked(log):
    log.append(150)
    proofs = ProofService(log.db, log.checkpointer)
    for call, status in ((lambda: proofs.inclusion(151), 404),
                         (lambda: proofs.inclusion(5, 100), 400),
                         (lambda: proofs.inclusion(120, 101), 400),
                         (lambda: proofs.consistency(1, 100), 400),
                         (lambda: proofs.consistency(101, 1), 400)):
        with pytest.raises(GatewayError) as refused:
            call()
        assert refused.value.status == status


def test_consistency_proofs_between_checkpoints_verify_independently(log):
    log.append(230)
    log.checkpointer.ensure(log.db)
    proofs = ProofService(log.db, log.checkpointer)
    sizes = log.sizes()
    assert sizes == [1, 101, 201, 230]
    for first in sizes:
        for second in (s for s in sizes if s >= first):
            answer = proofs.consistency(first, second)
            path = [bytes.fromhex(h) for h in answer["proof"]]
            old, new = bytes.fromhex(answer["from_root"]), bytes.fromhex(answer["to_root"])
            assert verify_consistency(first, second, old, new, path)
            if first < second:
                assert not verify_consistency(first, second, bytes(32), new, path)


@pytest.mark.parametrize("column, value", [
    ("action", "audit.search"),
    ("actor_org", "00000001006789012000"),
    ("sender", "00000001006789012000"),
    ("recipient", "00000001004567890000"),
    ("message_type", "jgz_advice"),
    ("decision", "denied"),
    ("exchange_id", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
    ("at", START),
    ("subject_ref", "T" * 35),
    ("subject_opening", "00" * 16),
])
def test_tampering_with_a_filter_column_is_found(log, column, value):
    """Issue 16: searches answer from the stored columns beside the hashed event, so a changed
    column (``decision`` turned to hide a refusal, a recipient moved to another organisation's
    view) must fail verification at its own entry, although the hashed bytes are untouched."""
    from gateway.audit.verify import INDEX_COLUMNS

    assert set(INDEX_COLUMNS) | {"subject_ref", "subject_opening"} == {
        c for c, _ in FILTER_CASES}, "a filter column without a tamper case"
    log.append(20)
    assert log.verify().valid
    log.sql(f"UPDATE audit_events SET {column} = :v WHERE seq = 7", v=value)  # noqa: S608
    report = log.verify()
    assert not report.valid and report.first_invalid_seq == 7, report.problem


FILTER_CASES = test_tampering_with_a_filter_column_is_found.pytestmark[0].args[1]
