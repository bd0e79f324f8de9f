"""Retention of signals (issue 19): closed signals past their term, and their erasure.

A closed signal is deleted with every match it was part of (a match row names both signals
and the child's match pseudonym; once one side is gone the match has no use, and keeping it
would keep the child). An open signal is never due: the organisation still says it is
involved. The term and the loop are the retention service's (:mod:`gateway.retention`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_
from sqlalchemy.orm import Session

from .matching import CLOSED
from .models import SignalMatchRow, SignalRow

CHILD_DOMAIN = "match"
"""The pseudonym domain of ``SignalRow.match_ref``."""
KEY = SignalRow.id
CHILD = SignalRow.match_ref


def closed_before(cutoff: datetime) -> ColumnElement[bool]:
    return and_(SignalRow.status == CLOSED, SignalRow.closed_at < cutoff)


def erase_signals(session: Session, ids: Sequence[str]) -> None:
    """Delete the signals ``ids`` and the matches that name any of them."""
    session.execute(
        delete(SignalMatchRow).where(
            or_(SignalMatchRow.first_signal_id.in_(ids), SignalMatchRow.second_signal_id.in_(ids))
        )
    )
    session.execute(delete(SignalRow).where(SignalRow.id.in_(ids)))
