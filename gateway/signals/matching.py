"""Which organisations to tell about each other when a signal arrives, and when a pair's
match ends.

Rule (API.md section 6): a new open signal is matched with every *other* organisation that
has an open signal on the same child; a pair gets at most one match while both keep an open
signal. So a pair is matched unless it has a live match, and a match ends when one side no
longer has any open signal on the child (a later signal then matches afresh).

These reads run inside the transaction that starts with the ``signal.create`` or
``signal.close`` audit event; that first write serialises them, so two organisations
signalling at the same moment see each other exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .models import SignalMatchRow, SignalRow

OPEN = "open"
CLOSED = "closed"


def open_signals(session: Session, match_refs: Sequence[str]) -> list[SignalRow]:
    """Open signals on the child, oldest first."""
    return list(
        session.scalars(
            select(SignalRow)
            .where(SignalRow.match_ref.in_(list(match_refs)), SignalRow.status == OPEN)
            .order_by(SignalRow.created_at, SignalRow.id)
        )
    )


def counterparts(signals: Sequence[SignalRow], org_id: int) -> dict[int, SignalRow]:
    """Every other organisation with an open signal, with its oldest open signal."""
    found: dict[int, SignalRow] = {}
    for signal in signals:
        if signal.org_id != org_id:
            found.setdefault(signal.org_id, signal)
    return found


def pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def has_live_match(session: Session, match_refs: Sequence[str], org_a: int, org_b: int) -> bool:
    first, second = pair(org_a, org_b)
    return (
        session.scalars(
            select(SignalMatchRow.id).where(
                SignalMatchRow.match_ref.in_(list(match_refs)),
                SignalMatchRow.first_org_id == first,
                SignalMatchRow.second_org_id == second,
                SignalMatchRow.ended_at.is_(None),
            )
        ).first()
        is not None
    )


def end_matches(session: Session, match_refs: Sequence[str], org_id: int, at: datetime) -> None:
    """The organisation has no open signal left on the child: its matches end."""
    session.execute(
        update(SignalMatchRow)
        .where(
            SignalMatchRow.match_ref.in_(list(match_refs)),
            SignalMatchRow.ended_at.is_(None),
            or_(SignalMatchRow.first_org_id == org_id, SignalMatchRow.second_org_id == org_id),
        )
        .values(ended_at=at)
    )
