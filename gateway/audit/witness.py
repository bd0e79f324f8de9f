"""The witness of the newest published checkpoint, kept outside the database.

A checkpoint handed to anyone (a proof, a verify answer, the checkpoint endpoint, ``gateway
audit checkpoint``) may be held by a partner for ever. Restoring a database backup rewinds the
audit log below it: the log is then shorter than what the gateway signed and published, or,
once new events arrive, a different tree under the same key (a fork). The database cannot
notice this about itself, because the backup holds the old state of everything in it; so each
publication is also written to a small file beside the keys (``audit-witness.json`` in
``GATEWAY_KEYS_DIR``), which a database restore does not touch and which only moves forward.

Before the gateway publishes anything about the log it compares the log with the witness
(:meth:`Witness.gap`), cheaply: the log's first checkpoint (which log is this), its head, and the
stored checkpoint at the witness's size. The database always holds the checkpoint it
published (checkpoints are never deleted), so a log that is shorter, or that lacks that
checkpoint, or whose checkpoint of that size has another root, has been rewound: a
:class:`Gap`. Until an operator acknowledges it (:meth:`Witness.acknowledge`, ``gateway audit
acknowledge-gap``), no proof and no new checkpoint is given (:class:`AuditLogRewound`, 503).

The witness names the log it belongs to by its first signed checkpoint (the hash of its note:
the size, the root over the first entries and the moment of signing), which a restore keeps,
because the first event's transaction signs it. A log whose first checkpoint differs, or a log
with none, is another log (a test's or a demo's emptied database beside kept keys): the witness
then starts over with that log's first publication. So a restore to a database holding no
signed checkpoint (no audit event) is not seen as a gap (docs/drills.md, "Restore from backup").
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..problems import GatewayError
from .log import rfc3339
from .models import AuditCheckpointRow

logger = logging.getLogger(__name__)

WITNESS_FILE = "audit-witness.json"
_HEAD = text("SELECT seq FROM audit_head WHERE id = 1")

REWOUND = "rewound"
"""The log is shorter than the published checkpoint."""
FORKED = "forked"
"""The log is at least as long, but its tree at the published size is not the published one."""


@dataclass(frozen=True)
class Gap:
    """What the log lost: the published checkpoint (the API's ``checkpoint`` object) and the
    log's size now."""

    kind: str
    published: dict
    log_size: int

    @property
    def published_size(self) -> int:
        return int(self.published["tree_size"])

    @property
    def published_root(self) -> str:
        return str(self.published["root_hash"])

    def as_dict(self) -> dict:
        """The ``gap`` object of the checkpoint endpoint."""
        return {
            "kind": self.kind,
            "published_size": self.published_size,
            "published_root": self.published_root,
            "log_size": self.log_size,
            "published_checkpoint": dict(self.published),
        }

    def describe(self) -> str:
        """One sentence, without child data, for a problem's detail and an audit reason."""
        how = "is shorter than" if self.kind == REWOUND else "does not extend"
        return (
            f"the audit log ({self.log_size} entries) {how} the checkpoint the gateway "
            f"published ({self.published_size} entries, root {self.published_root})"
        )


class AuditLogRewound(GatewayError):
    """The log was rewound below a published checkpoint (a database restore): no proof or
    checkpoint is given until an operator acknowledges the gap."""

    status, code = 503, "audit_log_rewound"

    def __init__(self, gap: Gap) -> None:
        super().__init__(
            f"{gap.describe()[:1].upper()}{gap.describe()[1:]}; the operator must acknowledge "
            "the gap (gateway audit acknowledge-gap) before proofs are given again."
        )
        self.gap = gap


def log_identity(session: Session) -> str | None:
    """Which log this is: the SHA-256 of its first checkpoint's signed note (a restore keeps
    it; another log, even one with the same first entries, was signed at another moment)."""
    note = session.scalar(
        select(AuditCheckpointRow.note).order_by(AuditCheckpointRow.tree_size).limit(1)
    )
    return hashlib.sha256(note.encode()).hexdigest() if note is not None else None


class Witness:
    """The witness file of one gateway (``path`` None: no witness, as in unit tests)."""

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.path is not None

    # the file ------------------------------------------------------------------------------
    def read(self) -> dict | None:
        """The witness: ``{"log", "checkpoint", "rewinds"}``, or None when there is none."""
        if self.path is None:
            return None
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        state = json.loads(data)
        if not isinstance(state, dict) or not isinstance(state.get("checkpoint"), dict):
            raise ValueError(f"{self.path} is not an audit witness")
        return state

    def _write(self, state: dict) -> None:
        """Atomically: a temporary file, flushed to disk, renamed over the witness, and the
        directory flushed, so a crash leaves the old witness or the new one, never half."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(state, indent=2, sort_keys=True).encode() + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-modify-write between the processes of one gateway."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # the comparison ------------------------------------------------------------------------
    def gap(self, session: Session) -> Gap | None:
        """The gap between the log in ``session`` and the witness, None when the log extends
        what was published (or there is no witness of this log)."""
        state = self.read()
        if state is None:
            return None
        first = log_identity(session)
        if first is None or first != state.get("log"):
            return None  # another log, or none signed yet (see the module docstring)
        published = state["checkpoint"]
        size = int(published["tree_size"])
        head = int(session.execute(_HEAD).scalar_one())
        if head < size:
            return Gap(REWOUND, published, head)
        stored = session.get(AuditCheckpointRow, size)
        if stored is None or stored.root_hash != published["root_hash"]:
            return Gap(FORKED, published, head)
        return None

    def rewinds(self, session: Session) -> list[dict]:
        """The acknowledged gaps of this log, oldest first."""
        state = self.read()
        if state is None or state.get("log") != log_identity(session):
            return []
        return list(state.get("rewinds") or [])

    # moving it ------------------------------------------------------------------------------
    def advance(self, session: Session, checkpoint: dict) -> None:
        """Record ``checkpoint`` (the API's object) as published when it is newer than the
        witness (only forward); a witness of another log is replaced."""
        if self.path is None:
            return
        state = self.read()
        log = log_identity(session)
        if (
            state is not None
            and state.get("log") == log
            and int(state["checkpoint"]["tree_size"]) >= checkpoint["tree_size"]
        ):
            return  # the common case, without the lock: nothing newer to record
        try:
            with self._locked():
                state = self.read()
                if state is not None and state.get("log") == log:
                    if int(state["checkpoint"]["tree_size"]) >= checkpoint["tree_size"]:
                        return
                    rewinds = state.get("rewinds") or []
                else:
                    rewinds = []
                self._write({"log": log, "checkpoint": dict(checkpoint), "rewinds": rewinds})
        except OSError as error:
            # a read-only keys directory (a mounted secret): the audit API keeps working, but
            # a restore will not be detected, which the operator must hear about
            if not self._warned:
                logger.error(
                    "the audit witness %s cannot be written (%s): a database restore below a "
                    "published checkpoint will not be detected",
                    self.path,
                    error.strerror or type(error).__name__,
                )
                self._warned = True

    def acknowledge(self, session: Session, checkpoint: dict, gap: Gap, at: datetime) -> dict:
        """The operator's acknowledgement: the witness moves to ``checkpoint`` (the head after the
        acknowledgement, smaller than or diverging from what was published, the one move
        that is not forward) and keeps the gap as a rewind that partners are shown."""
        assert self.path is not None
        rewind = {
            "kind": gap.kind,
            "published_size": gap.published_size,
            "published_root": gap.published_root,
            "log_size": gap.log_size,
            "acknowledged_at": rfc3339(at),
            "new_checkpoint_size": checkpoint["tree_size"],
        }
        with self._locked():
            state = self.read() or {}
            rewinds = [*(state.get("rewinds") or []), rewind]
            log = log_identity(session)
            self._write({"log": log, "checkpoint": dict(checkpoint), "rewinds": rewinds})
        return rewind


def witness_for(keys_dir: Path | None, path: Path | None = None) -> Witness:
    """The witness at ``path`` (``GATEWAY_AUDIT_WITNESS``), else beside the keys in
    ``keys_dir`` (None and None: no witness)."""
    if path is not None:
        return Witness(Path(path))
    return Witness(Path(keys_dir) / WITNESS_FILE if keys_dir is not None else None)
