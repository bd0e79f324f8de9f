"""Crypto-shredding of audit events' child references (docs/audit-design.md section 6).

The hashed event holds only ``subject_commitment``; whom it is about is in four columns
beside it: ``subject_ref`` (the operator's index), ``subject_opening`` (what opens the
commitment) and the naming indexes ``subject_clear_to`` / ``subject_pseudonym_to`` that a
partner's subject report selects by. Setting those four to null is the whole erasure:
``canonical``, ``hash``, the stored tree and every checkpoint stay byte for byte, so the
chain and all proofs verify as before, and without the 128-bit opening nobody (the operator
included) can test the commitment against a child any more. Verify reads a row whose
``subject_ref`` and ``subject_opening`` are both null as "no child or shredded".

The scan walks the log once in ``seq`` order, in batches, and never takes the append lock:
it writes only columns that no append reads (the naming of a follow-up event is read from
its *send*, and a send past retention has no follow-ups left to come). A row already
shredded is not a candidate again, so a second run finds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..clock import aware
from ..storage.database import Database
from .models import AuditEventRow

SHRED_COLUMNS = ("subject_ref", "subject_opening", "subject_clear_to", "subject_pseudonym_to")
"""The columns that say whom an event was about; nothing else of the row changes."""

Term = Callable[[str | None], timedelta]
"""How long an event of a purpose (None: no purpose) keeps its child reference."""
Held = Callable[[Session, set[str]], set[str]]
"""Of some children's audit pseudonyms, those whose references must still be kept."""


@dataclass
class ShredCount:
    events: int = 0
    """Events whose child reference was erased (or, on a dry run, would be)."""
    held: int = 0
    """Events past their term kept because the gateway still keeps a record of the child."""


def _purpose(canonical: str) -> str | None:
    return json.loads(canonical).get("purpose")


def shred_due(
    db: Database,
    now: datetime,
    term: Term,
    shortest: timedelta,
    held: Held,
    *,
    batch: int = 1000,
    dry_run: bool = False,
) -> ShredCount:
    """Erase the child reference of every event past its purpose's term whose child has no
    other record left (``held``); on ``dry_run`` only count them."""
    count = ShredCount()
    cutoff = now - shortest
    with db.session() as session:
        last = session.scalar(select(func.max(AuditEventRow.seq)).where(AuditEventRow.at < cutoff))
    after = 0
    verdicts: dict[str, bool] = {}  # child -> held; the records went before this pass
    while last is not None and after < last:
        with db.session() as session:
            rows = session.execute(
                select(
                    AuditEventRow.seq,
                    AuditEventRow.at,
                    AuditEventRow.subject_ref,
                    AuditEventRow.canonical,
                )
                .where(
                    AuditEventRow.seq > after,
                    AuditEventRow.seq <= last,
                    AuditEventRow.subject_ref.is_not(None),
                )
                .order_by(AuditEventRow.seq)
                .limit(batch)
            ).all()
            if not rows:
                break
            after = rows[-1].seq
            due = [r for r in rows if aware(r.at) + term(_purpose(r.canonical)) <= now]
            unknown = {r.subject_ref for r in due} - verdicts.keys()
            if unknown:
                kept = held(session, unknown)
                verdicts.update((ref, ref in kept) for ref in unknown)
        seqs = [r.seq for r in due if not verdicts[r.subject_ref]]
        count.held += len(due) - len(seqs)
        count.events += len(seqs)
        if seqs and not dry_run:
            erase(db, seqs)
    return count


def erase(db: Database, seqs: Iterable[int]) -> None:
    """Null the child-reference columns of the events ``seqs`` (one short transaction)."""
    with db.write_session() as session:
        session.execute(
            update(AuditEventRow)
            .where(AuditEventRow.seq.in_(list(seqs)), AuditEventRow.subject_ref.is_not(None))
            .values(dict.fromkeys(SHRED_COLUMNS))
        )
