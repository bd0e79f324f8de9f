"""Retention of consents (issue 19): which consents are past their term, and their erasure.

A consent is erased whole (the row with its sealed details and the receipt stored in it, and
its status history) once it ended longer ago than the term: withdrawn, superseded, or past
its ``valid_until``. Deleting the rows, rather than blanking the child's column, keeps the
registry consistent: a consent without its child would match nothing, yet still show up in a
partner's search. Exchanges and audit events that name the consent id keep it as a dangling
reference, which names no child. The term and the loop are the retention service's
(:mod:`gateway.retention`); this module knows only the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_
from sqlalchemy.orm import Session

from ..clock import local_date
from .models import ConsentRow, ConsentStatusRow

CHILD_DOMAIN = "consent"
"""The pseudonym domain of ``ConsentRow.subject_ref``."""
KEY = ConsentRow.id
CHILD = ConsentRow.subject_ref


def ended_before(cutoff: datetime, timezone: str) -> ColumnElement[bool]:
    """Consents that ended before ``cutoff``. A consent is valid through its ``valid_until``
    (a date in the contract's time zone), so it ended before the cutoff's date began."""
    return or_(
        ConsentRow.withdrawn_at < cutoff,
        ConsentRow.superseded_at < cutoff,
        ConsentRow.valid_until < local_date(cutoff, timezone),
    )


def erase_consents(session: Session, ids: Sequence[str]) -> None:
    """Delete the consents ``ids`` with their status history (its rows point at them)."""
    session.execute(delete(ConsentStatusRow).where(ConsentStatusRow.consent_id.in_(ids)))
    session.execute(delete(ConsentRow).where(ConsentRow.id.in_(ids)))
