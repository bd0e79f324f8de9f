"""Verification of the whole audit log in one streaming pass (constant memory).

For each stored row, in ``seq`` order: the row is the next sequence number (a deleted row is
reported at its own number, a reordered one where the order breaks), SHA-256 of the stored
canonical bytes equals the stored ``hash``, the canonical ``seq`` is the row's, and
``prev_hash`` is the previous entry's hash. The leaves go into a compact range, and whenever
its size reaches a checkpoint's ``tree_size`` the recomputed root must equal the signed root.
Every checkpoint's signed note must verify with the audit public key. A row whose `subject_ref`
index and `subject_opening` do not open the hashed `subject_commitment` is invalid (a
rewritten child index would otherwise misdirect subject reports); a row with both null
reads as "no child or shredded" (the retention purge erases both, with the naming indexes,
of events past their term: docs/audit-design.md section 6; by design verify cannot tell which),
while a row with only one of them null is invalid. So is a row whose
filter columns (:data:`INDEX_COLUMNS`) differ from the members of its hashed event: a search
answers from those columns. Last, the head row must
name the last entry.

Where the first broken check does not name the altered entry by itself, the verifier looks
further: an entry rewritten together with its hash breaks the *next* entry's link, so a broken
link is blamed on the earlier entry when the leaf stored for it differs, or when the entry
after the link still names the later entry's hash (a single rewritten row is then located
exactly, checkpointed or not); a rewrite of everything from some entry on breaks only a
checkpoint's root, and the first entry whose leaf differs from the leaf stored when the tree
was extended is reported.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select, text

from .. import metrics
from ..storage.database import Database
from . import merkle, tree, verify_parallel
from .chain import GENESIS_HASH, commitment_of, prev_hash_of
from .checkpoints import checkpoint_view
from .commitment import opens
from .models import AuditCheckpointRow
from .note import NoteError, verify_checkpoint
from .verify_batch import at_text as _at_text
from .verify_batch import valid_leaves

INDEX_COLUMNS = (
    "action",
    "actor_org",
    "sender",
    "recipient",
    "message_type",
    "decision",
    "exchange_id",
    "at",
)
"""The stored columns searches filter on, each a copy of one member of the hashed event."""
_ROWS_SQL = (
    "SELECT seq, canonical, hash, subject_ref, subject_opening, action, actor_org, sender, "
    "recipient, message_type, decision, exchange_id, at FROM audit_events "
    "WHERE seq <= %s ORDER BY seq"
)
_RANGE_SQL = _ROWS_SQL.replace("WHERE seq <= %s", "WHERE seq > %s AND seq <= %s")
"""A later part of the log for one process of :mod:`.verify_parallel` (the first part reads
with :data:`_ROWS_SQL`, unbounded below, as the serial pass does)."""
_MEMBER = {"actor_org": "org"}  # the column's member in the event (actor.org is nested)


def _literal(value) -> str:
    return "null" if value is None else f'"{value}"'


def _indexes_agree(row: tuple) -> bool:
    """:func:`index_disagrees` for a whole row, unrolled (the valid case, on the hot path)."""
    c = row[1]
    return (
        f'"action":"{row[5]}"' in c
        and f'"org":{_literal(row[6])}' in c
        and f'"sender":{_literal(row[7])}' in c
        and f'"recipient":{_literal(row[8])}' in c
        and f'"message_type":{_literal(row[9])}' in c
        and f'"decision":"{row[10]}"' in c
        and f'"exchange_id":{_literal(row[11])}' in c
        and f'"at":"{_at_text(row[12])}"' in c
    )


def index_disagrees(canonical: str, columns: tuple) -> str | None:
    """The first index column whose value is not the hashed event's, or None.

    In RFC 8785 JSON a quote inside a string is escaped, so ``"name":`` occurs only as a
    member; ``org`` occurs only inside ``actor``; the values are plain ASCII (OINs, UUIDs,
    action names), which JSON writes as ``json.dumps`` does. So a substring test is exact
    and keeps verification near the cost of hashing."""
    for name, value in zip(INDEX_COLUMNS, columns, strict=True):
        shown = _at_text(value) if name == "at" else value
        literal = "null" if shown is None else f'"{shown}"'  # plain ASCII, as JSON writes it
        if f'"{_MEMBER.get(name, name)}":{literal}' not in canonical:
            return name
    return None


_HEAD = text("SELECT seq, hash FROM audit_head WHERE id = 1")
PARALLEL_FROM = 50_000
"""Logs shorter than this are verified in this process: starting another costs more."""
_sha256 = hashlib.sha256
_NODE = hashlib.sha256(b"\x01")
"""SHA-256 fed the interior node prefix (RFC 9162), copied for each node."""


@dataclass
class VerifyReport:
    """The outcome; ``checkpoint`` is the newest checkpoint that verified."""

    valid: bool
    entries: int
    head_hash: str
    first_invalid_seq: int | None = None
    checkpoint: AuditCheckpointRow | None = None
    invalid_checkpoints: list[int] = field(default_factory=list)
    problem: str | None = None
    verified_at: str | None = None
    gap: object | None = None
    """The open gap (:class:`gateway.audit.witness.Gap`) that made a whole chain invalid: a
    restore below a published checkpoint. Not in the answer's body (``problem`` names it);
    for readers that show it in their own words, such as the web banner."""

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "first_invalid_seq": self.first_invalid_seq,
            "checkpoint": checkpoint_view(self.checkpoint) if self.checkpoint else None,
            "invalid_checkpoints": list(self.invalid_checkpoints),
            "problem": self.problem,
            "verified_at": self.verified_at,
        }


class _Checkpoints:
    """Checkpoints in ``tree_size`` order, read in pages (bounded memory)."""

    def __init__(self, db: Database, page: int = 1000, after: int = -1) -> None:
        self.db = db
        self.page = page
        self.after = after
        self._iter = self._pages()
        self.current: AuditCheckpointRow | None = next(self._iter, None)

    def _pages(self) -> Iterator[AuditCheckpointRow]:
        after = self.after
        while True:
            with self.db.session() as session:
                rows = list(
                    session.scalars(
                        select(AuditCheckpointRow)
                        .where(AuditCheckpointRow.tree_size > after)
                        .order_by(AuditCheckpointRow.tree_size)
                        .limit(self.page)
                    )
                )
            yield from rows
            if len(rows) < self.page:
                return
            after = rows[-1].tree_size

    def advance(self) -> None:
        self.current = next(self._iter, None)


@dataclass
class _Pass:
    """Where the streaming pass stands between two batches."""

    next_size: int
    """The ``tree_size`` of the next checkpoint to check (0: none left)."""
    edge: list[bytes] = field(default_factory=list)
    """The compact range: one hash per set bit of the size."""
    expected: int = 1
    previous: str = GENESIS_HASH
    previous_data: bytes = b""
    good_size: int = 0
    """The size of the newest checkpoint whose root verified."""


def _links_hold(state: _Pass, seqs, canonicals, stored, datas: list[bytes]) -> bool:
    """Whether a whole batch follows on: consecutive numbers, hashes of the stored bytes,
    each canonical ``seq`` its row's and each ``prev_hash`` the entry before's."""
    sha256 = _sha256
    return not (
        seqs[0] != state.expected
        or seqs[-1] != state.expected + len(seqs) - 1
        or [sha256(data).hexdigest() for data in datas] != list(stored)
        or not all(f',"seq":{n},' in c for n, c in zip(seqs, canonicals, strict=True))
        or not all(
            f'"prev_hash":"{h}"' in c
            for h, c in zip((state.previous, *stored[:-1]), canonicals, strict=True)
        )
    )


def _index_problem(rows) -> tuple[int, str] | None:
    """The first row whose subject index or filter columns disagree with its hashed event,
    and why; the whole batch is checked at once first (the valid case)."""
    if all(
        (r[3] is None and r[4] is None or opens(commitment_of(r[1]), r[3], r[4]))
        and _indexes_agree(r)
        for r in rows
    ):
        return None
    for seq, canonical, _, ref, opening, *columns in rows:
        if not opens(commitment_of(canonical), ref, opening):
            return seq, "the subject_ref index does not open the hashed commitment"
        wrong = index_disagrees(canonical, tuple(columns))
        if wrong is not None:
            return seq, f"the {wrong} index does not match the hashed event"
    return None


class ChainVerifier:
    """Verifies the log of ``db`` against the audit public key (32 raw bytes)."""

    def __init__(
        self,
        db: Database,
        public_key: bytes,
        batch: int = 1000,
        workers: int | None = None,
        parallel_from: int = PARALLEL_FROM,
    ) -> None:
        self.db = db
        self.public_key = public_key
        self.batch = batch
        self.workers = workers
        """Processes for a long log (the caller's included); 1 keeps the serial pass. None:
        one per core (up to 4) when this process runs no other thread, else 1. A number
        makes the caller answer for forking (:mod:`.verify_parallel`)."""
        self.parallel_from = parallel_from

    def verify(self) -> VerifyReport:
        with self.db.session() as session:
            head_seq, head_hash = session.execute(_HEAD).one()
        head_seq = int(head_seq)
        report = VerifyReport(valid=True, entries=head_seq, head_hash=head_hash)
        checkpoints = self._parallel_pass(report, head_seq, head_hash)
        if checkpoints is None:  # the serial pass decides, and names any culprit
            checkpoints = _Checkpoints(self.db)
            self._stream(report, checkpoints, head_seq, head_hash)
        # checkpoints beyond what the chain verified still get their signatures checked
        while checkpoints.current is not None:
            row = checkpoints.current
            if self._signature_problem(row) or row.tree_size > head_seq:
                report.invalid_checkpoints.append(row.tree_size)
                if row.tree_size > head_seq and report.first_invalid_seq is None:
                    self._invalid(
                        report,
                        head_seq + 1,
                        "a signed checkpoint covers entries that are no longer in the log",
                    )
            checkpoints.advance()
        if report.invalid_checkpoints:
            report.valid = False
            report.problem = report.problem or "a checkpoint signature does not verify"
        metrics.record_chain_state(report.valid)
        return report

    # the pass on several cores -----------------------------------------------------------------
    def _parallel_pass(
        self, report: VerifyReport, head_seq: int, head_hash: str
    ) -> _Checkpoints | None:
        """When the log is long and this process may fork: the whole pass split over
        :attr:`workers` processes (:mod:`.verify_parallel`). Only a log that is valid in every
        part, with parts that join, is settled here; then the newest checkpoint goes into
        the report and the checkpoints beyond the head are returned for the caller's
        remaining checks. None (anything wrong, or no split) hands the log to the serial
        pass, so a broken log gets the serial pass's report, culprit and all."""
        workers = self.workers
        if workers is None:
            workers = min(os.cpu_count() or 1, 4) if verify_parallel.single_threaded() else 1
        if workers < 2 or head_seq < self.parallel_from or not hasattr(os, "fork"):
            return None
        parts = verify_parallel.plan(self.db, head_seq, head_hash, workers)
        if parts is None:
            return None
        newest = verify_parallel.run(parts, self._check_part, self.db.engine)
        if newest is None:
            return None
        with self.db.session() as session:
            report.checkpoint = session.get(AuditCheckpointRow, newest)
        return _Checkpoints(self.db, after=head_seq)

    def _check_part(self, part: verify_parallel.Part) -> verify_parallel.PartEnd:
        """The serial pass over one part, from the state the part assumes."""
        report = VerifyReport(valid=True, entries=part.last, head_hash=part.head)
        checkpoints = _Checkpoints(self.db, after=part.after or -1)
        state = _Pass(
            0,
            edge=list(part.edge),
            expected=part.after + 1,
            previous=part.previous,
            good_size=part.after,
        )
        self._stream(report, checkpoints, part.last, part.head, state, part.after)
        return verify_parallel.PartEnd(
            report.valid and not report.invalid_checkpoints,
            state.previous,
            state.edge,
            state.good_size,
        )

    # the pass ------------------------------------------------------------------------------
    def _batches(self, last: int, after: int = 0) -> Iterator[list[tuple[int, str, str]]]:
        """The rows up to ``last`` in ``seq`` order, a batch at a time, straight from the
        driver (a server-side cursor on PostgreSQL): the pass costs little more than reading
        and hashing the stored bytes, in constant memory."""
        raw = self.db.engine.raw_connection()
        try:
            sql, bounds = (_RANGE_SQL, (after, last)) if after else (_ROWS_SQL, (last,))
            if self.db.is_sqlite:
                cursor = raw.cursor()
                cursor.execute(sql.replace("%s", "?"), bounds)
            else:
                cursor = raw.driver_connection.cursor(name="audit_verify")
                cursor.itersize = self.batch
                cursor.execute(sql, bounds)
            while batch := cursor.fetchmany(self.batch):
                yield batch
            cursor.close()
        finally:
            raw.rollback()
            raw.close()

    def _stream(
        self,
        report: VerifyReport,
        checkpoints: _Checkpoints,
        last: int,
        head: str,
        state: _Pass | None = None,
        after: int = 0,
    ):
        """One pass over the rows up to ``last`` (those after ``after`` only, when a part of
        the log starts from ``state``); each batch is checked in one loop first (the common,
        valid case: :mod:`.verify_batch`), check by check and row by row only when that
        loop is not sure."""
        if state is None:
            state = _Pass(0)
        state.next_size = checkpoints.current.tree_size if checkpoints.current else 0
        for rows in self._batches(last, after):
            leaves = valid_leaves(rows, state.expected, state.previous)
            if leaves is None:  # something in the batch is (or may be) wrong: check apart
                batch = [row[:3] for row in rows]
                seqs, canonicals, stored = zip(*batch, strict=True)
                datas = [canonical.encode() for canonical in canonicals]
                if not _links_hold(state, seqs, canonicals, stored, datas):
                    seq, why = self._first_broken(
                        batch, state.expected, state.previous, state.previous_data, last, head
                    )
                    return self._invalid(report, seq, why)
                broken = _index_problem(rows)
                if broken is not None:
                    return self._invalid(report, *broken)
                leaves = [_sha256(b"\x00" + data).digest() for data in datas]
            if self._extend(state, state.expected, leaves, checkpoints, report):
                return None
            state.expected += len(rows)
            state.previous, state.previous_data = rows[-1][2], rows[-1][1].encode()
        if state.expected - 1 != last:
            return self._invalid(report, state.expected, "entry missing")
        if last and state.previous != head:
            return self._invalid(report, last, "the head does not name the last entry")
        return None

    def _extend(
        self, state: _Pass, first: int, leaves: list[bytes], checkpoints: _Checkpoints, report
    ) -> bool:
        """Add the batch's leaves (of entries ``first``, ``first + 1``, ...) to the compact
        range and check each checkpoint it reaches; True when a checkpoint's root is wrong
        (the report then names the culprit)."""
        node = _NODE.copy
        edge = state.edge
        pop, push = edge.pop, edge.append
        next_size = state.next_size
        for seq, leaf in enumerate(leaves, first):
            index = seq - 1
            while index & 1:  # each trailing one of the leaf's index closes a subtree
                hashed = node()
                hashed.update(pop())
                hashed.update(leaf)
                leaf = hashed.digest()
                index >>= 1
            push(leaf)
            while seq == next_size:
                row = checkpoints.current
                problem = self._checkpoint_problem(row, edge, seq)
                if problem == "root":
                    culprit = self._first_changed_leaf(state.good_size, row.tree_size)
                    report.invalid_checkpoints.append(row.tree_size)
                    checkpoints.advance()
                    self._invalid(report, culprit, "entries differ from a signed checkpoint")
                    return True
                if problem:
                    report.invalid_checkpoints.append(row.tree_size)
                else:
                    state.good_size = row.tree_size
                    report.checkpoint = row
                checkpoints.advance()
                next_size = checkpoints.current.tree_size if checkpoints.current else 0
                if next_size and next_size <= seq:  # a size out of order: never reached
                    next_size = 0
        state.next_size = next_size
        return False

    def _first_broken(
        self, batch, expected: int, previous: str, previous_data: bytes, last: int, head: str
    ) -> tuple[int, str]:
        """The first entry of ``batch`` that does not follow from the one before, and why."""
        for seq, canonical, stored in batch:
            if seq != expected:
                return expected, "entry missing or out of order"
            data = canonical.encode()
            if _sha256(data).hexdigest() != stored:
                return seq, "hash does not match the stored bytes"
            if f',"seq":{seq},' not in canonical:
                return seq, "sequence number out of place"
            if f'"prev_hash":"{previous}"' not in canonical:
                culprit = self._broken_link(seq, previous_data, data, stored, last, head)
                return culprit, "prev_hash does not link"
            previous, previous_data, expected = stored, data, seq + 1
        raise AssertionError("a batch failed its checks but no entry in it does")

    def _invalid(self, report: VerifyReport, seq: int, why: str) -> None:
        report.valid = False
        report.first_invalid_seq = seq
        report.problem = why

    # checkpoints ---------------------------------------------------------------------------
    def _signature_problem(self, row: AuditCheckpointRow) -> str | None:
        try:
            body = verify_checkpoint(row.note, self.public_key)
        except NoteError as exc:
            return str(exc)
        if body.tree_size != row.tree_size or body.root_hash.hex() != row.root_hash:
            return "the note does not state the stored size and root"
        return None

    def _checkpoint_problem(
        self, row: AuditCheckpointRow, edge: list[bytes], size: int
    ) -> str | None:
        if row.tree_size != size:
            return "size"
        problem = self._signature_problem(row)
        if problem:
            return problem
        root = edge[-1]
        for part in reversed(edge[:-1]):
            root = merkle.node_hash(part, root)
        if root.hex() != row.root_hash:
            return "root"
        return None

    # locating an altered entry -------------------------------------------------------------
    def _broken_link(
        self, seq: int, before: bytes, data: bytes, digest: str, last: int, head: str
    ) -> int:
        """Entry ``seq`` does not link to entry ``seq - 1``, though each matches its own hash:
        either ``seq - 1`` was rewritten with its hash (``seq`` still names the old hash) or
        ``seq`` was. Stored leaves decide where they exist; otherwise the next link does: if
        the entry after ``seq`` (or the head) still names ``seq``'s hash, ``seq`` is intact
        and ``seq - 1`` was rewritten."""
        with self.db.session() as session:
            stored = tree.stored_leaves(session, seq - 2, seq - 1)
            following = session.execute(
                text("SELECT canonical, hash FROM audit_events WHERE seq = :seq"),
                {"seq": seq + 1},
            ).first()
        if seq > 1 and stored.get(seq - 2, merkle.leaf_hash(before)) != merkle.leaf_hash(before):
            return seq - 1
        if stored.get(seq - 1, merkle.leaf_hash(data)) != merkle.leaf_hash(data):
            return seq
        if following is None:
            next_names_it = seq == last and head == digest
        else:
            canonical, next_digest = following
            next_names_it = (
                _sha256(canonical.encode()).hexdigest() == next_digest
                and prev_hash_of(canonical) == digest
            )
        return seq - 1 if next_names_it and seq > 1 else seq

    def _first_changed_leaf(self, good_size: int, size: int) -> int:
        """The first entry in (good_size, size] whose leaf differs from the stored one; the
        first entry a valid checkpoint does not vouch for when the stored leaves agree."""
        with self.db.session() as session:
            stored = tree.stored_leaves(session, good_size, size - 1)
            rows = session.execute(
                text(
                    "SELECT seq, canonical FROM audit_events WHERE seq > :a AND seq <= :b "
                    "ORDER BY seq"
                ),
                {"a": good_size, "b": size},
            )
            for seq, canonical in rows:
                if stored.get(seq - 1) != merkle.leaf_hash(canonical.encode()):
                    return seq
        return good_size + 1
