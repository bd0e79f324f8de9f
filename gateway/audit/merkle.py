"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs, without storage.

Leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || left || right) (section 2.1.1);
the leaves of the audit log are the events' canonical bytes, leaf index = ``seq`` - 1.

The proof algorithms (sections 2.1.3.1 and 2.1.4.1) are written over a callable
``subtree(start, end)`` that returns the hash of a *perfect* subtree (``end - start`` a power
of two, ``start`` a multiple of it), so the same code serves a list of leaves in memory and
the stored tree nodes of the database (:mod:`gateway.audit.tree`), where every perfect
subtree of a signed tree size is one row. :func:`needed_subtrees` runs an algorithm once
with a recorder to learn which nodes it will read, so that a store can fetch them in one
query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

Subtree = Callable[[int, int], bytes]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees, left to right, whose hashes make MTH(D[start:end]).

    ``start`` must be aligned as the RFC's recursion aligns it (a multiple of the largest
    power of two not above ``end - start``); every range the proofs use is.
    """
    parts = []
    while end - start > 0:
        size = end - start
        width = size if size & (size - 1) == 0 else largest_power_of_two_below(size)
        parts.append((start, start + width))
        start += width
    return parts


def range_hash(subtree: Subtree, start: int, end: int) -> bytes:
    """MTH(D[start:end]) from its perfect subtrees (folded right to left)."""
    if end <= start:
        return EMPTY_ROOT
    parts = [subtree(a, b) for a, b in perfect_subtrees(start, end)]
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def inclusion_path(subtree: Subtree, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    return _path(subtree, index, 0, size)


def _path(subtree: Subtree, m: int, start: int, end: int) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return _path(subtree, m, start, start + k) + [range_hash(subtree, start + k, end)]
    return _path(subtree, m - k, start + k, end) + [range_hash(subtree, start, start + k)]


def consistency_proof(subtree: Subtree, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 section 2.1.4.1."""
    if not 0 < old_size <= new_size:
        raise ValueError("sizes out of order")
    if old_size == new_size:
        return []
    return _subproof(subtree, old_size, 0, new_size, True)


def _subproof(subtree: Subtree, m: int, start: int, end: int, whole: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [range_hash(subtree, start, end)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return _subproof(subtree, m, start, start + k, whole) + [
            range_hash(subtree, start + k, end)
        ]
    return _subproof(subtree, m - k, start + k, end, False) + [
        range_hash(subtree, start, start + k)
    ]


def needed_subtrees(algorithm: Callable[[Subtree], object]) -> set[tuple[int, int]]:
    """The perfect subtrees ``algorithm(subtree)`` reads; it runs once with dummy hashes.

    The proof algorithms branch on sizes only, never on hash values, so the recorded set is
    exactly what the real run will ask for.
    """
    seen: set[tuple[int, int]] = set()

    def record(start: int, end: int) -> bytes:
        seen.add((start, end))
        return EMPTY_ROOT

    algorithm(record)
    return seen


class CompactRange:
    """The right edge of a growing tree: one perfect subtree hash per set bit of its size.

    Appending a leaf merges equal-sized subtrees, reporting each new node through
    ``on_node(level, index, hash)``; :meth:`root` folds the edge into MTH(D[0:size]). Memory is
    O(log size), so verification over millions of entries runs in constant space.
    """

    __slots__ = ("_hashes", "_levels", "on_node", "size")

    def __init__(
        self,
        size: int = 0,
        hashes: Iterable[bytes] = (),
        on_node: Callable[[int, int, bytes], None] | None = None,
    ) -> None:
        self.size = size
        self._hashes = list(hashes)
        self._levels = [level for level, _ in self.edge(size)]
        if len(self._levels) != len(self._hashes):
            raise ValueError("a compact range needs one hash per set bit of its size")
        self.on_node = on_node

    @staticmethod
    def edge(size: int) -> list[tuple[int, int]]:
        """The (level, index) of each perfect subtree on the edge of a tree of ``size``."""
        nodes, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                nodes.append((level, start >> level))
                start += 1 << level
        return nodes

    def append(self, leaf: bytes) -> None:
        hashes, levels = self._hashes, self._levels
        index = self.size
        if self.on_node is not None:
            self.on_node(0, index, leaf)
        level = 0
        while levels and levels[-1] == level:
            leaf = node_hash(hashes.pop(), leaf)
            levels.pop()
            level += 1
            if self.on_node is not None:
                self.on_node(level, index >> level, leaf)
        hashes.append(leaf)
        levels.append(level)
        self.size = index + 1

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for part in reversed(self._hashes[:-1]):
            result = node_hash(part, result)
        return result
