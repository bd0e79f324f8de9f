"""Signed checkpoints of the audit tree: when they are made, and how.

Policy (API.md section 8: "at least every 100 events or 10 seconds while events arrive, and
on demand when a proof needs one"):

- On append, inside the appending transaction and so under the ``audit_head`` lock that
  serialises every writer: a checkpoint of the new tree size is made when at least
  ``every`` (100) events are not covered by the newest checkpoint, or the newest is at least
  ``interval`` (10 s) old. Whether to look is decided from a per-process cache of the newest
  checkpoint (never ahead of the database), so an ordinary append costs no extra query; the
  decision itself is taken on the database's newest checkpoint. Because the checkpoint is in
  the same transaction as the event, a rolled-back event never has a checkpoint, and the rule
  holds across any number of processes.
- On demand (a proof, verify, ``gateway audit checkpoint``): :meth:`Checkpointer.ensure`
  takes the head lock and signs the current head when no checkpoint covers what is needed.
  What it returns is handed out (published), so it first compares the log with the witness
  of the newest published checkpoint and refuses while the log has been rewound below it
  (:mod:`gateway.audit.witness`), and afterwards moves the witness forward.

Every checkpoint creation holds the head lock, so the stored tree grows by one writer at a
time. A checkpoint is never signed over a broken chain (:class:`~gateway.audit.chain.ChainBroken`).
"""

from __future__ import annotations

import logging
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


def origin_for(base_url: str) -> str:
    """The log's origin (and key name): the base URL without scheme, plus ``/audit``."""
    parts = urlsplit(base_url)
    host = (parts.netloc + parts.path.rstrip("/")) or "thuiszitterspact-gateway"
    return f"{host}/audit".replace("+", "-").replace(" ", "")


@dataclass(frozen=True)
class CheckpointPolicy:
    every: int = 100
    interval: timedelta = timedelta(seconds=10)


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


def newest(session: Session) -> AuditCheckpointRow | None:
    return session.scalars(
        select(AuditCheckpointRow).order_by(AuditCheckpointRow.tree_size.desc()).limit(1)
    ).first()


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

    def after_append(self, session: Session, seq: int, at: datetime) -> None:
        """Called by :meth:`AuditLog.append` under the head lock, after the event's insert."""
        if not self.due(seq, at):
            return
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

    def _create(
        self, session: Session, current: AuditCheckpointRow | None, size: int, at: datetime
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
            insert(AuditCheckpointRow),
            {
                "tree_size": size,
                "root_hash": row.root_hash,
                "timestamp": at,
                "key_id": row.key_id,
                "note": note,
            },
        )
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


def checkpointer_for(audit_key, base_url: str, witness: Witness | None = None) -> Checkpointer:
    """The checkpointer of one gateway: its audit key, named after its base URL (the
    checkpoint origin that verifiers pin), and the witness of what it published (the
    composition root gives the one in the keys directory; none in a unit test)."""
    return Checkpointer(NoteSigner(audit_key, origin_for(base_url)), witness=witness)
