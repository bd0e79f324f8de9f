"""An independent RFC 9162 verifier, and the gateway's Merkle code checked against it.

The verifier below is written from RFC 9162 sections 2.1.1 (MTH), 2.1.3.2 (verifying an
inclusion proof) and 2.1.4.2 (verifying a consistency proof), without the gateway's code; the
e2e tests import it to check the proofs the live gateway serves. The known answers are the
tree heads of the Certificate Transparency reference test vectors.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit import merkle


# the independent verifier ------------------------------------------------------------------
def rfc_leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def rfc_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def rfc_mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as section 2.1.1 defines it."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return rfc_leaf(entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return rfc_node(rfc_mth(entries[:k]), rfc_mth(entries[k:]))


def verify_inclusion(leaf_index: int, tree_size: int, leaf: bytes, path: list[bytes],
                     root: bytes) -> bool:
    """Section 2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = rfc_node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = rfc_node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes,
                       path: list[bytes]) -> bool:
    """Section 2.1.4.2, step by step (equal sizes: the roots must be equal, no proof)."""
    if first == second:
        return not path and first_hash == second_hash
    if not path or first > second or first == 0:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = rfc_node(c, fr)
            sr = rfc_node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = rfc_node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# known answers -----------------------------------------------------------------------------
CT_LEAVES = [bytes.fromhex(x) for x in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def subtree_of(items: list[bytes]):
    def subtree(start: int, end: int) -> bytes:
        assert end - start & (end - start - 1) == 0, "only perfect subtrees are read"
        assert start % (end - start) == 0, "perfect subtrees are aligned"
        return rfc_mth(items[start:end])
    return subtree


def test_reference_verifier_matches_the_ct_test_vectors():
    for n, root in enumerate(CT_ROOTS, start=1):
        assert rfc_mth(CT_LEAVES[:n]).hex() == root


def test_compact_range_and_range_hash_give_the_ct_roots():
    compact = merkle.CompactRange()
    for n, leaf in enumerate(CT_LEAVES, start=1):
        compact.append(merkle.leaf_hash(leaf))
        assert compact.root().hex() == CT_ROOTS[n - 1]
        assert merkle.range_hash(subtree_of(CT_LEAVES), 0, n).hex() == CT_ROOTS[n - 1]
    assert merkle.CompactRange().root() == hashlib.sha256(b"").digest()


def test_compact_range_reports_every_perfect_subtree_once():
    seen = {}
    compact = merkle.CompactRange(on_node=lambda level, index, h: seen.setdefault((level, index), h))
    items = entries(37)
    for item in items:
        compact.append(merkle.leaf_hash(item))
    for (level, index), value in seen.items():
        assert value == rfc_mth(items[index << level:(index + 1) << level])
    assert len(seen) == sum(37 >> level for level in range(6))
    resumed = merkle.CompactRange(32, [seen[(5, 0)]])
    for item in items[32:]:
        resumed.append(merkle.leaf_hash(item))
    assert resumed.root() == rfc_mth(items)
    with pytest.raises(ValueError):
        merkle.CompactRange(3, [b"x"])


@pytest.mark.parametrize("size", range(1, 34))
def test_every_inclusion_proof_verifies_independently(size):
    items = entries(size)
    root = rfc_mth(items)
    for index in range(size):
        path = merkle.inclusion_path(subtree_of(items), index, size)
        assert verify_inclusion(index, size, rfc_leaf(items[index]), path, root)
        assert not verify_inclusion(index, size, rfc_leaf(b"changed"), path, root)
        if path:
            forged = [bytes(32)] + path[1:]
            assert not verify_inclusion(index, size, rfc_leaf(items[index]), forged, root)


@pytest.mark.parametrize("second", range(1, 34))
def test_every_consistency_proof_verifies_independently(second):
    items = entries(second)
    second_root = rfc_mth(items)
    for first in range(1, second + 1):
        first_root = rfc_mth(items[:first])
        proof = merkle.consistency_proof(subtree_of(items), first, second)
        assert verify_consistency(first, second, first_root, second_root, proof)
        if first < second:
            other = rfc_mth([b"rewritten"] + items[1:first])
            assert not verify_consistency(first, second, other, second_root, proof)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.data())
def test_large_trees_prove_with_the_same_algorithms(size, data):
    items = entries(size)
    levels = [[rfc_leaf(item) for item in items]]
    memo = {}

    def subtree(start, end):  # perfect subtrees from a level table, like the stored tree
        width = end - start
        level = width.bit_length() - 1
        key = (level, start >> level)
        if key not in memo:
            memo[key] = rfc_mth(items[start:end]) if level < 3 else rfc_node(
                subtree(start, start + width // 2), subtree(start + width // 2, end))
        return memo[key]

    root = merkle.range_hash(subtree, 0, size)
    index = data.draw(st.integers(0, size - 1))
    path = merkle.inclusion_path(subtree, index, size)
    assert verify_inclusion(index, size, levels[0][index], path, root)
    first = data.draw(st.integers(1, size))
    first_root = merkle.range_hash(subtree, 0, first)
    proof = merkle.consistency_proof(subtree, first, size)
    assert verify_consistency(first, size, first_root, root, proof)


def test_needed_subtrees_lists_exactly_what_a_proof_reads():
    items = entries(21)
    read = set()

    def recording(start, end):
        read.add((start, end))
        return subtree_of(items)(start, end)

    merkle.inclusion_path(recording, 6, 21)
    assert merkle.needed_subtrees(lambda s: merkle.inclusion_path(s, 6, 21)) == read


def test_out_of_range_requests_are_refused():
    with pytest.raises(ValueError):
        merkle.inclusion_path(subtree_of(entries(3)), 3, 3)
    with pytest.raises(ValueError):
        merkle.consistency_proof(subtree_of(entries(3)), 4, 3)
    assert merkle.consistency_proof(subtree_of(entries(3)), 3, 3) == []
