"""Audit views (API.md section 13): the hashed event commits to the child per event.

Revision ID: 0010_audit_views
Revises: 0009_polymorphic

Adds ``subject_opening`` and ``subject_clear_to`` to ``audit_events`` and re-chains the
existing events into the v1.1 form (docs/audit-design.md, "Migration of existing rows"):
each event's ``subject_ref`` member is replaced by ``subject_commitment`` under a fresh
opening, and ``prev_hash``/``hash`` are recomputed in ``seq`` order. The old chain cannot be
kept as it was, because every partner could read the global child value out of it; its last
head and its signed checkpoints are kept in ``audit_legacy_chain`` for the operator, and the
Merkle tree is rebuilt (new checkpoints are signed on demand). ``subject_clear_to`` stays
empty for old events: a partner's subject report by BSN does not list them (it may still ask
by its own pseudonym); the operator's reports are unchanged.
"""

import hashlib
import json

import rfc8785
import sqlalchemy as sa
from alembic import op

from gateway.audit.commitment import commit, new_opening

revision = "0010_audit_views"
down_revision = "0009_polymorphic"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    _add_columns()
    bind = op.get_bind()
    head = bind.execute(sa.text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    if head is None or not head[0]:
        return
    _keep_legacy_chain(bind, head)
    previous = _rechain(bind)
    bind.execute(sa.text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": previous})


def _add_columns() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("subject_opening", sa.String(32), nullable=True))
        batch.add_column(sa.Column("subject_clear_to", sa.String(400), nullable=True))
        batch.add_column(sa.Column("subject_pseudonym_to", sa.String(400), nullable=True))
    op.create_table(
        "audit_legacy_chain",
        sa.Column(
            "tree_size",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )


def _keep_legacy_chain(bind, head) -> None:
    """The old head and signed checkpoints into ``audit_legacy_chain``; the old checkpoints
    and Merkle tree are cleared (they are rebuilt over the new chain)."""
    for size, root, note in bind.execute(
        sa.text("SELECT tree_size, root_hash, note FROM audit_checkpoints")
    ).all():
        bind.execute(
            sa.text(
                "INSERT INTO audit_legacy_chain (tree_size, head_hash, root_hash, note) "
                "VALUES (:s, :h, :r, :n)"
            ),
            {"s": size, "h": "", "r": root, "n": note},
        )
    bind.execute(
        sa.text(
            "INSERT INTO audit_legacy_chain (tree_size, head_hash) VALUES (:s, :h) "
            "ON CONFLICT (tree_size) DO UPDATE SET head_hash = excluded.head_hash"
        ),
        {"s": int(head[0]), "h": head[1]},
    )
    bind.execute(sa.text("DELETE FROM audit_checkpoints"))
    bind.execute(sa.text("DELETE FROM audit_tree_nodes"))


def _rechain(bind) -> str:
    """Every event in ``seq`` order, a thousand at a time, rewritten in the v1.1 form and
    linked to the one before; the new head hash."""
    previous = GENESIS
    after = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT seq, canonical FROM audit_events WHERE seq > :after "
                "ORDER BY seq LIMIT 1000"
            ),
            {"after": after},
        ).all()
        for seq, canonical in rows:
            text, digest, opening = _rechained(canonical, previous)
            bind.execute(
                sa.text(
                    "UPDATE audit_events SET canonical = :c, hash = :h, subject_opening = :o "
                    "WHERE seq = :s"
                ),
                {"c": text, "h": digest, "o": opening, "s": seq},
            )
            previous = digest
        if len(rows) < 1000:
            return previous
        after = rows[-1][0]


def _rechained(canonical: str, previous: str) -> tuple[str, str, str | None]:
    """One event with its ``subject_ref`` replaced by a commitment under a fresh opening and
    linked to ``previous``: its canonical text, hash and opening."""
    event = json.loads(canonical)
    ref = event.pop("subject_ref", None)
    opening = new_opening() if ref is not None else None
    event["subject_commitment"] = commit(ref, opening) if ref is not None else None
    event["prev_hash"] = previous
    text = rfc8785.dumps(event).decode()
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest(), opening


def downgrade() -> None:
    op.drop_table("audit_legacy_chain")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("subject_pseudonym_to")
        batch.drop_column("subject_clear_to")
        batch.drop_column("subject_opening")
