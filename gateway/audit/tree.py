"""The RFC 9162 tree over the audit events, kept in ``audit_tree_nodes``.

Every perfect subtree that lies inside a signed tree size is stored once, when the checkpoint
that first covers it extends the tree (:func:`extend`). A proof for a signed size then needs
only stored nodes: :func:`load_subtrees` fetches exactly the ones the algorithm will read (see
:func:`gateway.audit.merkle.needed_subtrees`) in one query.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import and_, insert, or_, select, text
from sqlalchemy.orm import Session

from . import merkle
from .chain import GENESIS_HASH, ChainBroken, check_entry
from .models import AuditTreeNode


class TreeIncomplete(Exception):
    """A node the proof needs is not stored (the size is not a signed one)."""


def _key(start: int, end: int) -> tuple[int, int]:
    level = (end - start).bit_length() - 1
    return level, start >> level


def load_subtrees(session: Session, ranges: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The stored hash of each perfect subtree ``(start, end)`` in ``ranges``."""
    if not ranges:
        return {}
    by_level: dict[int, list[int]] = {}
    for start, end in ranges:
        level, index = _key(start, end)
        by_level.setdefault(level, []).append(index)
    condition = or_(
        *(
            and_(AuditTreeNode.level == level, AuditTreeNode.idx.in_(indexes))
            for level, indexes in by_level.items()
        )
    )
    rows = session.execute(
        select(AuditTreeNode.level, AuditTreeNode.idx, AuditTreeNode.hash).where(condition)
    ).all()
    stored = {(level, index): bytes(value) for level, index, value in rows}
    found = {}
    for start, end in ranges:
        value = stored.get(_key(start, end))
        if value is None:
            raise TreeIncomplete(f"no stored node for leaves [{start}, {end})")
        found[(start, end)] = value
    return found


def run_stored(session: Session, algorithm: Callable[[merkle.Subtree], object]):
    """Run a proof algorithm over the stored nodes, fetched in one query."""
    nodes = load_subtrees(session, merkle.needed_subtrees(algorithm))
    return algorithm(lambda start, end: nodes[(start, end)])


def root(session: Session, size: int) -> bytes:
    return run_stored(session, lambda subtree: merkle.range_hash(subtree, 0, size))


def inclusion_path(session: Session, index: int, size: int) -> list[bytes]:
    return run_stored(session, lambda subtree: merkle.inclusion_path(subtree, index, size))


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    return run_stored(
        session, lambda subtree: merkle.consistency_proof(subtree, old_size, new_size)
    )


def leaf(session: Session, index: int) -> bytes:
    return load_subtrees(session, {(index, index + 1)})[(index, index + 1)]


def stored_leaves(session: Session, first: int, last: int) -> dict[int, bytes]:
    """Stored leaf hashes by index for ``first <= index <= last`` (missing ones absent)."""
    rows = session.execute(
        select(AuditTreeNode.idx, AuditTreeNode.hash).where(
            AuditTreeNode.level == 0, AuditTreeNode.idx.between(first, last)
        )
    ).all()
    return {index: bytes(value) for index, value in rows}


_INSERT_NODES = insert(AuditTreeNode.__table__)


def extend(session: Session, old_size: int, new_size: int) -> merkle.CompactRange:
    """Grow the stored tree from ``old_size`` to ``new_size`` leaves; returns its edge.

    Reads the new events, checks that each one follows from the one before (a checkpoint never
    signs a broken chain: :class:`ChainBroken`), computes the new nodes and inserts them.
    Everything is read and checked before the first write.
    """
    edge_keys = merkle.CompactRange.edge(old_size)
    ranges = {(index << level, (index + 1) << level) for level, index in edge_keys}
    loaded = load_subtrees(session, ranges)
    edge = [loaded[(index << level, (index + 1) << level)] for level, index in edge_keys]
    new_nodes: list[dict] = []
    compact = merkle.CompactRange(
        old_size,
        edge,
        on_node=lambda level, index, value: new_nodes.append(
            {"level": level, "idx": index, "hash": value}
        ),
    )
    rows = session.execute(
        text(
            "SELECT seq, canonical, hash FROM audit_events WHERE seq >= :first AND seq <= :last "
            "ORDER BY seq"
        ),
        {"first": max(old_size, 1), "last": new_size},
    )
    previous = GENESIS_HASH
    expected = old_size + 1
    for seq, canonical, stored_hash in rows:
        if seq == old_size and old_size > 0:
            previous = stored_hash
            continue
        if seq != expected:
            raise ChainBroken(expected, "missing entry")
        problem = check_entry(seq, canonical, stored_hash, previous)
        if problem:
            raise ChainBroken(seq, problem)
        compact.append(merkle.leaf_hash(canonical.encode()))
        previous = stored_hash
        expected += 1
    if expected != new_size + 1:
        raise ChainBroken(expected, "missing entry")
    if new_nodes:
        session.execute(_INSERT_NODES, new_nodes)  # Core: the ORM's bulk path cost more
    return compact
