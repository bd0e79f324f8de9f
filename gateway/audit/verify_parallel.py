"""The verification pass over a long log split across processes, one per core.

Verifying is CPU-bound Python (two SHA-256 per entry, the tree, the string checks, an Ed25519
signature per checkpoint) and the GIL keeps it on one core, so a long log is cut at signed
checkpoints into parts and each part is checked by its own process, reading its own rows
through its own connection. A part after the first cannot know the state the pass would bring
to its start (the previous entry's hash, the tree's compact range) before the parts before it
are done, so it *assumes* the stored one: the stored hash of the entry at the cut and the
stored tree nodes of the tree of that size. After every part has run, the parent checks that
each part ended exactly in the state the next one assumed. Every part thus makes exactly the
checks the serial pass makes on those entries, from the same state.

Only a log that is valid throughout is settled this way. Anything wrong in any part (or a part
that cannot start, or a child that dies) returns None and the caller runs the serial pass,
which finds the first invalid entry and names it exactly as before; a broken log costs a
second pass, the valid one (the normal case) about half.

Processes are forked, never spawned (no interpreter start, no imports). By default only a
process with a single thread forks (the CLI, a benchmark): a child of a threaded process can
inherit a lock another thread held, so the web server's request threads verify serially. A
caller that names the number of processes answers for that itself (the tests do: a test
process keeps the log listener's thread). A child turns logging off (the one lock it could
meet that another thread may hold is the log queue's), drops the engine's pooled connections
without closing them (SQLAlchemy's rule for forks), opens its own, sends back a small
marshalled result through a pipe and leaves with ``os._exit``.
"""

from __future__ import annotations

import logging
import marshal
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from ..storage.database import Database
from . import merkle, tree
from .chain import GENESIS_HASH
from .models import AuditCheckpointRow, AuditEventRow


@dataclass(frozen=True)
class Part:
    """The entries ``after < seq <= last`` and the state the pass must reach them in."""

    after: int
    last: int
    previous: str
    """The hash of entry ``after`` (genesis for the first part): the stored one."""
    edge: tuple[bytes, ...]
    """The compact range of the tree of ``after`` leaves: the stored nodes."""
    head: str
    """The hash this part must end on: the next part's ``previous``, or the head's."""


@dataclass(frozen=True)
class PartEnd:
    """Where the pass over a part ended."""

    valid: bool
    previous: str
    edge: list[bytes]
    newest: int
    """The tree size of the newest checkpoint verified in the part (its start when none)."""


def single_threaded() -> bool:
    """Whether no other thread runs here, so a forked child cannot inherit a held lock."""
    return threading.active_count() == 1


def plan(db: Database, head_seq: int, head_hash: str, workers: int) -> list[Part] | None:
    """Up to ``workers`` parts of about equal length, cut at signed checkpoint sizes (whose
    tree nodes are stored); None when the log cannot be cut (no checkpoints where needed, a
    stored node or entry missing) or has a checkpoint size below 1, which the serial pass
    treats in its own way."""
    size = AuditCheckpointRow.tree_size
    with db.session() as session:
        smallest = session.scalar(select(func.min(size)))
        if smallest is None or smallest < 1:
            return None
        cuts: list[int] = []
        for k in range(1, workers):
            cut = session.scalar(select(func.max(size)).where(size <= head_seq * k // workers))
            if cut is not None and cut > (cuts[-1] if cuts else 0):
                cuts.append(cut)
        if not cuts:
            return None
        hashes = dict(
            session.execute(
                select(AuditEventRow.seq, AuditEventRow.hash).where(AuditEventRow.seq.in_(cuts))
            ).all()
        )
        wanted = {cut: merkle.CompactRange.edge(cut) for cut in cuts}
        try:
            nodes = tree.load_subtrees(
                session,
                {(i << level, (i + 1) << level) for keys in wanted.values() for level, i in keys},
            )
        except tree.TreeIncomplete:
            return None
    if len(hashes) != len(cuts):
        return None
    starts = [(0, GENESIS_HASH, ())] + [
        (cut, hashes[cut], tuple(nodes[(i << lv, (i + 1) << lv)] for lv, i in wanted[cut]))
        for cut in cuts
    ]
    ends = [*cuts, head_seq]
    heads = [previous for _, previous, _ in starts[1:]] + [head_hash]
    return [
        Part(after, last, previous, edge, head)
        for (after, previous, edge), last, head in zip(starts, ends, heads, strict=True)
    ]


def run(parts: list[Part], check: Callable[[Part], PartEnd], engine: Engine) -> int | None:
    """``check`` every part, the first in this process and each other in a forked child; the
    newest verified checkpoint's size when every part is valid and ends in the state the next
    one assumed, else None."""
    children: list[tuple[int, int]] = []
    try:
        for part in parts[1:]:
            children.append(_fork(lambda part=part: _in_child(check, part, engine)))
        ends = [check(parts[0])]
    except BaseException:
        for pid, _ in children:
            os.kill(pid, signal.SIGKILL)
        for pid, fd in children:
            _collect(pid, fd)
        raise
    ends += [_collect(pid, fd) for pid, fd in children]
    # each part's own pass checked that it ends on the hash the next part assumed (its
    # ``head``); the tree must join too, though a wrong stored node would also fail the next
    # part's first signed root
    for end, following in zip(ends, [*parts[1:], None], strict=True):
        if end is None or not end.valid:
            return None
        if following is not None and end.edge != list(following.edge):
            return None
    return max(end.newest for end in ends)


def _in_child(check: Callable[[Part], PartEnd], part: Part, engine: Engine) -> bytes:
    logging.disable(logging.CRITICAL)
    engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    end = check(part)
    return marshal.dumps((end.valid, end.previous, list(end.edge), end.newest))


def _fork(work: Callable[[], bytes]) -> tuple[int, int]:
    """Run ``work`` in a child; its pid and the pipe its answer comes through."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        status = 1
        try:
            os.close(read_fd)
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(work())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    return pid, read_fd


def _collect(pid: int, read_fd: int) -> PartEnd | None:
    """The child's answer, or None when it failed or sent none."""
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return None
    valid, previous, edge, newest = marshal.loads(payload)  # noqa: S302 - our own child's
    return PartEnd(valid, previous, edge, newest)
