"""Signed checkpoints of the audit tree: when they are made, and how.

Policy (API.md section 8: "at least every 100 events or 10 seconds while events arrive, and
on demand when a proof needs one"):

- Behind the appends, off the request's critical section (issue 23): once ``early_every``
  (50) events are uncovered or the newest checkpoint is ``early_interval`` (5 s) old, an
  append wakes the process's :class:`BackgroundSigner`, a thread that signs the committed head
  in a transaction of its own (:meth:`Checkpointer.sign_behind`). On PostgreSQL it does not
  take the ``audit_head`` row lock, so appends go on while it hashes and signs; it holds the
  tree lock (an advisory lock, :data:`TREE_LOCK`) that every checkpoint creation holds, so the
  stored tree still grows by one writer at a time. It reads only committed events, so a
  rolled-back event never has a checkpoint.
- The bound, inside the appending transaction and so under the ``audit_head`` lock that
  serialises every writer: when at least ``every`` (100) events are not covered by the newest
  checkpoint, or the newest is at least ``interval`` (10 s) old (the signer fell behind, or a
  process runs none), the append takes the tree lock and makes the checkpoint itself. Whether
  to look is decided from a per-process cache of the newest checkpoint, so an ordinary append
  costs no extra query; the decision itself is taken on the database's newest checkpoint. The
  rule therefore holds across any number of processes, with or without signers.
- On demand (a proof, verify, ``gateway audit checkpoint``): :meth:`Checkpointer.ensure`
  takes the head lock and signs the current head when no checkpoint covers what is needed.
  What it returns is handed out (published), so it first compares the log with the witness
  of the newest published checkpoint and refuses while the log has been rewound below it
  (:mod:`gateway.audit.witness`), and afterwards moves the witness forward.

Every checkpoint creation holds the tree lock (on SQLite: the database's one write lock), and
takes it after the head lock when it takes both, so two creators never deadlock. A checkpoint
is never signed over a broken chain (:class:`~gateway.audit.chain.ChainBroken`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from .. import metrics
from ..clock import Clock, aware, system_clock
from ..storage.database import Database
from . import tree
from .chain import ChainBroken
from .log import AuditLog, rfc3339
from .models import AuditCheckpointRow
from .note import CheckpointBody, NoteSigner
from .witness import AuditLogRewound, Gap, Witness

log = logging.getLogger(__name__)

_HEAD = text("SELECT seq FROM audit_head WHERE id = 1")
TREE_LOCK = text("SELECT pg_advisory_xact_lock(7238964137)")
"""Held (to the end of its transaction) by whoever grows the stored tree on PostgreSQL: an
append at the bound, :meth:`Checkpointer.sign_behind`, :meth:`Checkpointer.ensure`. The key is
this lock's own number in the gateway's database."""


def _lock_tree(session: Session) -> None:
    """Take the tree lock; on SQLite the transaction's write lock already excludes others."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(TREE_LOCK)


def origin_for(base_url: str) -> str:
    """The log's origin (and key name): the base URL without scheme, plus ``/audit``."""
    parts = urlsplit(base_url)
    host = (parts.netloc + parts.path.rstrip("/")) or "thuiszitterspact-gateway"
    return f"{host}/audit".replace("+", "-").replace(" ", "")


@dataclass(frozen=True)
class CheckpointPolicy:
    """``every``/``interval``: the bound API.md section 8 promises, kept by the appends
    themselves; ``early_every``/``early_interval``: when the background signer is woken, well
    before the bound, so that under a steady load the appends never reach it."""

    every: int = 100
    interval: timedelta = timedelta(seconds=10)
    early_every: int = 50
    early_interval: timedelta = timedelta(seconds=5)


class CheckpointUnavailable(Exception):
    """No checkpoint can be made: the chain is broken at ``seq`` (or the stored tree is
    incomplete, ``seq`` None)."""

    def __init__(self, why: str, seq: int | None = None) -> None:
        super().__init__(why)
        self.seq = seq


def checkpoint_view(row: AuditCheckpointRow) -> dict:
    """The ``checkpoint`` object of the API."""
    return {
        "tree_size": row.tree_size,
        "root_hash": row.root_hash,
        "timestamp": rfc3339(aware(row.timestamp)),
        "key_id": row.key_id,
        "note": row.note,
    }


_CHECKPOINTS = AuditCheckpointRow.__table__
_NEWEST = select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.tree_size.desc()).limit(1)
_INSERT_CHECKPOINT = insert(_CHECKPOINTS)


def newest(session: Session):
    """The newest checkpoint as a plain row (the columns of :class:`AuditCheckpointRow` as
    attributes), or None. Core, built once: it is read on every checkpoint, and the ORM's
    path cost a quarter of a background checkpoint's CPU (issue 23)."""
    return session.execute(_NEWEST).first()


def at_size(session: Session, size: int) -> AuditCheckpointRow | None:
    return session.get(AuditCheckpointRow, size)


class Checkpointer:
    """Makes signed checkpoints with ``signer``; one per application (or CLI run)."""

    def __init__(
        self,
        signer: NoteSigner,
        policy: CheckpointPolicy | None = None,
        clock: Clock = system_clock,
        witness: Witness | None = None,
    ) -> None:
        self.signer = signer
        self.policy = policy or CheckpointPolicy()
        self.clock = clock
        self.witness = witness or Witness(None)
        self._known_size = 0
        self._known_at: datetime | None = None
        self._background: BackgroundSigner | None = None

    @property
    def key_id(self) -> str:
        return self.signer.key_id.hex()

    def due(self, seq: int, at: datetime) -> bool:
        """Cheap pre-check from the cache; True whenever a checkpoint may be due."""
        if seq - self._known_size >= self.policy.every or seq <= self._known_size:
            return True  # (seq <= known: a transaction that made a checkpoint rolled back)
        return self._known_at is None or at - self._known_at >= self.policy.interval

    def _remember(self, row: AuditCheckpointRow | None) -> None:
        if row is None:
            self._known_size, self._known_at = 0, None
        else:
            self._known_size, self._known_at = row.tree_size, aware(row.timestamp)

    def early(self, seq: int, at: datetime) -> bool:
        """From the cache: True once the background signer should sign (well before the bound)."""
        if seq - self._known_size >= self.policy.early_every:
            return True
        return self._known_at is None or at - self._known_at >= self.policy.early_interval

    def after_append(self, session: Session, seq: int, at: datetime) -> None:
        """Called by :meth:`AuditLog.append` under the head lock, after the event's insert."""
        background = self._background
        if background is not None and self.early(seq, at):
            background.wake()
        if not self.due(seq, at):
            return
        _lock_tree(session)
        current = newest(session)
        self._remember(current)
        size = current.tree_size if current else 0
        if size >= seq:
            return
        stale = current is None or at - aware(current.timestamp) >= self.policy.interval
        if seq - size < self.policy.every and not stale:
            return
        try:
            self._create(session, current, seq, at)
        except (ChainBroken, tree.TreeIncomplete) as broken:
            # never fail the caller's business transaction for this; verify will report it
            metrics.record_chain_state(False)
            log.error("audit checkpoint refused: %s", broken)

    def start_background(self, db: Database) -> BackgroundSigner:
        """Start this process's background signer (once; a gunicorn worker after the fork)."""
        if self._background is None:
            self._background = BackgroundSigner(self, db)
            self._background.start()
        return self._background

    def stop_background(self) -> None:
        background, self._background = self._background, None
        if background is not None:
            background.stop()

    def sign_behind(self, db: Database) -> AuditCheckpointRow | None:
        """Sign the committed head, in a transaction of its own, when the early rule says so;
        returns the newest checkpoint. On PostgreSQL only the tree lock is held: appends go on
        meanwhile (their events are not in this checkpoint; the next one covers them). On
        SQLite the transaction is the one writer, as any write is."""
        with db.write_session() as session:
            if db.is_sqlite:
                session.execute(AuditLog.LOCK_HEAD)
            else:
                _lock_tree(session)
            current = newest(session)
            head = int(session.execute(_HEAD).scalar_one())
            size = current.tree_size if current else 0
            at = self.clock()
            age = at - aware(current.timestamp) if current is not None else None
            fresh = age is not None and age < self.policy.early_interval
            if head <= size or (head - size < self.policy.early_every and fresh):
                self._remember(current)
                return current
            row = self._create(session, current, head, at, remember=False)
        self._remember(row)  # after the commit: the cache is never ahead of the database
        return row

    def _create(
        self,
        session: Session,
        current: AuditCheckpointRow | None,
        size: int,
        at: datetime,
        remember: bool = True,
    ) -> AuditCheckpointRow:
        old_size = current.tree_size if current else 0
        compact = tree.extend(session, old_size, size)
        root = compact.root()
        stamp = rfc3339(at)
        note = self.signer.sign(CheckpointBody(self.signer.name, size, root, stamp))
        row = AuditCheckpointRow(
            tree_size=size, root_hash=root.hex(), timestamp=at, key_id=self.key_id, note=note
        )
        session.execute(
            _INSERT_CHECKPOINT,
            {
                "tree_size": size,
                "root_hash": row.root_hash,
                "timestamp": at,
                "key_id": row.key_id,
                "note": note,
            },
        )
        if remember:
            self._remember(row)
        return row

    def gap(self, db: Database) -> Gap | None:
        """The gap between the log and the newest checkpoint published (None: none)."""
        if not self.witness.enabled:
            return None
        with db.session() as session:
            return self.witness.gap(session)

    def ensure(self, db: Database, covering: int | None = None) -> AuditCheckpointRow | None:
        """The newest checkpoint, after signing the current head if it does not cover
        ``covering`` (default: the head), recorded as published in the witness. None for an
        empty log; raises :class:`CheckpointUnavailable` when the chain is broken and
        :class:`~gateway.audit.witness.AuditLogRewound` when the log was rewound below a
        checkpoint already published."""
        gap = self.gap(db)
        if gap is not None:
            raise AuditLogRewound(gap)
        row = self._ensure(db, covering)
        self.publish(db, row)
        return row

    def publish(self, db: Database, row: AuditCheckpointRow | None) -> None:
        """Move the witness to ``row`` when it is newer than the one published."""
        if row is None or not self.witness.enabled:
            return
        with db.session() as session:
            self.witness.advance(session, checkpoint_view(row))

    def resume_after(self, db: Database, gap: Gap, at: datetime) -> tuple[AuditCheckpointRow, dict]:
        """An operator acknowledged ``gap``: sign the head (which holds the acknowledgement)
        and move the witness to it, the one move that is not forward. Returns the checkpoint
        and the rewind the witness now shows partners."""
        row = self._ensure(db)
        if row is None:  # pragma: no cover - the acknowledgement itself is an entry
            raise CheckpointUnavailable("the audit log is empty")
        with db.session() as session:
            rewind = self.witness.acknowledge(session, checkpoint_view(row), gap, at)
        return row, rewind

    def _ensure(self, db: Database, covering: int | None = None) -> AuditCheckpointRow | None:
        with db.session() as session:
            current = newest(session)
            head = int(session.execute(_HEAD).scalar_one())
        wanted = head if covering is None else covering
        if current is not None and current.tree_size >= wanted:
            return current
        if head == 0:
            return current
        with db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            _lock_tree(session)
            current = newest(session)
            head = int(session.execute(_HEAD).scalar_one())
            if current is not None and current.tree_size >= min(wanted, head):
                return current
            try:
                return self._create(session, current, head, self.clock())
            except ChainBroken as broken:
                metrics.record_chain_state(False)
                raise CheckpointUnavailable(str(broken), broken.seq) from None
            except tree.TreeIncomplete as missing:
                metrics.record_chain_state(False)
                raise CheckpointUnavailable(str(missing)) from None


class BackgroundSigner:
    """A daemon thread that runs :meth:`Checkpointer.sign_behind` when an append wakes it, and
    every ``early_interval`` besides. A failure is logged and tried again on the next wake:
    the appends' bound still holds without it."""

    def __init__(self, checkpointer: Checkpointer, db: Database) -> None:
        self.checkpointer = checkpointer
        self.db = db
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="audit-checkpoint-signer", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        interval = self.checkpointer.policy.early_interval.total_seconds()
        while not self._stopped.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self.checkpointer.sign_behind(self.db)
            except (ChainBroken, tree.TreeIncomplete) as broken:
                metrics.record_chain_state(False)
                log.error("audit checkpoint refused: %s", broken)
            except Exception:  # the database away, say: the next wake tries again
                log.exception("background audit checkpoint failed")


def checkpointer_for(audit_key, base_url: str, witness: Witness | None = None) -> Checkpointer:
    """The checkpointer of one gateway: its audit key, named after its base URL (the
    checkpoint origin that verifiers pin), and the witness of what it published (the
    composition root gives the one in the keys directory; none in a unit test)."""
    return Checkpointer(NoteSigner(audit_key, origin_for(base_url)), witness=witness)
