"""Inclusion and consistency proofs (RFC 9162 sections 2.1.3 and 2.1.4) for signed sizes.

Proofs are only given for tree sizes of signed checkpoints, so that what a partner checks a
proof against is a root the gateway signed (API.md section 8). Without ``tree_size`` an
inclusion proof uses the newest checkpoint, signed first if none covers the entry yet.
"""

from __future__ import annotations

from sqlalchemy import text

from ..problems import InvalidParameter
from ..storage.database import Database
from . import checkpoints, tree
from .checkpoints import Checkpointer, CheckpointUnavailable, checkpoint_view
from .errors import ChainInvalid, UnknownEntry, invalid_parameter

_HEAD = text("SELECT seq FROM audit_head WHERE id = 1")


def _hex(values: list[bytes]) -> list[str]:
    return [value.hex() for value in values]


class ProofService:
    def __init__(self, db: Database, checkpointer: Checkpointer) -> None:
        self.db = db
        self.checkpointer = checkpointer

    def _signed(self, session, size: int, name: str):
        row = checkpoints.at_size(session, size)
        if row is None:
            raise invalid_parameter(name, "Not the size of a signed checkpoint.")
        return row

    def inclusion(self, seq: int, tree_size: int | None = None) -> dict:
        """The audit path of entry ``seq`` in the signed tree of ``tree_size`` entries."""
        with self.db.session() as session:
            head = int(session.execute(_HEAD).scalar_one())
            if seq > head:
                raise UnknownEntry("No audit entry with this sequence number.")
            if tree_size is not None:
                row = self._signed(session, tree_size, "tree_size")
                if seq > tree_size:
                    raise InvalidParameter(
                        "The entry is not in a tree of this size.",
                        errors={"tree_size": ["Must be at least seq."]},
                    )
        if tree_size is None:
            try:
                row = self.checkpointer.ensure(self.db, covering=seq)
            except CheckpointUnavailable as exc:
                raise ChainInvalid(f"No checkpoint can be signed: {exc}.") from None
        index = seq - 1
        with self.db.session() as session:
            try:
                leaf = tree.leaf(session, index)
                path = tree.inclusion_path(session, index, row.tree_size)
            except tree.TreeIncomplete:
                raise ChainInvalid("The stored tree is incomplete.") from None
        return {
            "seq": seq,
            "leaf_index": index,
            "leaf_hash": leaf.hex(),
            "tree_size": row.tree_size,
            "root_hash": row.root_hash,
            "audit_path": _hex(path),
            "checkpoint": checkpoint_view(row),
        }

    def consistency(self, from_size: int, to_size: int) -> dict:
        """The proof that the signed tree of ``to_size`` extends that of ``from_size``."""
        if from_size > to_size:
            raise InvalidParameter(
                "from_size is larger than to_size.",
                errors={"from_size": ["Must not be larger than to_size."]},
            )
        with self.db.session() as session:
            old = self._signed(session, from_size, "from_size")
            new = self._signed(session, to_size, "to_size")
            try:
                proof = tree.consistency_proof(session, from_size, to_size)
            except tree.TreeIncomplete:
                raise ChainInvalid("The stored tree is incomplete.") from None
        return {
            "from_size": from_size,
            "to_size": to_size,
            "from_root": old.root_hash,
            "to_root": new.root_hash,
            "proof": _hex(proof),
            "from_checkpoint": checkpoint_view(old),
            "to_checkpoint": checkpoint_view(new),
        }
