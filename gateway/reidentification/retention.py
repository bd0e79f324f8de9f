"""Retention of re-identification requests (issue 19): settled requests past their term.

A request is settled when it was decided (approved or refused) and, if approved, consumed or
left unconsumed; or, never decided, when it expired. Its row (requester, pseudonym, the
child's audit pseudonym, reason, decision) is deleted: every step is in the audit log, whose
child reference has its own term. The term and the loop are the retention service's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_
from sqlalchemy.orm import Session

from .models import ReidentificationRequestRow as Row

CHILD_DOMAIN = "audit"
"""The pseudonym domain of ``subject_ref`` (``pseudonym`` is the requester's own)."""
KEY = Row.id
CHILD = Row.subject_ref


def settled_before(cutoff: datetime) -> ColumnElement[bool]:
    """Decided (and any approval consumed) before ``cutoff``, or expired undecided before."""
    return or_(
        and_(
            Row.decided_at.is_not(None),
            Row.decided_at < cutoff,
            or_(Row.consumed_at.is_(None), Row.consumed_at < cutoff),
        ),
        and_(Row.decided_at.is_(None), Row.expires_at < cutoff),
    )


def erase_requests(session: Session, ids: Sequence[str]) -> None:
    session.execute(delete(Row).where(Row.id.in_(ids)))
