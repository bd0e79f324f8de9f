"""Single-use state shared by every process: outstanding requests and used assertion IDs.

pysaml2 keeps both in memory (or not at all), which breaks as soon as two gunicorn workers or
two replicas serve one login. Here both are rows: a request ID is taken by one ``DELETE`` whose
row count says whether this process won it, and an assertion ID is remembered by an ``INSERT``
on a primary key, which a second use cannot repeat.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..clock import Clock
from ..clock import aware as _aware
from ..storage.database import Database
from .models import SamlAssertionRow, SamlRequestRow

REQUEST_LIFETIME = timedelta(minutes=10)


class OutstandingRequests:
    """Requests we sent whose answer is still welcome (``InResponseTo`` must name one)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def add(self, request_id: str, kind: str, relay_state: str, idp: str | None = None) -> None:
        now = self.clock()
        with self.db.write_session() as session:
            session.execute(delete(SamlRequestRow).where(SamlRequestRow.expires_at < now))
            session.add(
                SamlRequestRow(
                    id=request_id,
                    kind=kind,
                    relay_state=relay_state,
                    idp=idp,
                    created_at=now,
                    expires_at=now + REQUEST_LIFETIME,
                )
            )

    def idp_of(self, request_id: str | None, kind: str) -> tuple[bool, str | None]:
        """(whether an unexpired request of ``kind`` is outstanding, the IdP it went to);
        the request stays outstanding (``take`` consumes it after the checks)."""
        if not request_id or len(request_id) > 100:
            return False, None
        with self.db.session() as session:
            row = session.scalars(
                select(SamlRequestRow).where(
                    SamlRequestRow.id == request_id, SamlRequestRow.kind == kind
                )
            ).first()
            if row is None or _aware(row.expires_at) < self.clock():
                return False, None
            return True, row.idp

    def take(self, request_id: str | None, kind: str) -> str | None:
        """The relay state of an unexpired request of ``kind``, removed so it answers once."""
        if not request_id or len(request_id) > 100:
            return None
        with self.db.write_session() as session:
            row = session.scalars(
                select(SamlRequestRow).where(
                    SamlRequestRow.id == request_id, SamlRequestRow.kind == kind
                )
            ).first()
            if row is None:
                return None
            relay_state, expires_at = row.relay_state, row.expires_at
            taken = session.execute(
                delete(SamlRequestRow).where(SamlRequestRow.id == request_id)
            ).rowcount
        if taken != 1 or _aware(expires_at) < self.clock():
            return None
        return relay_state


class AssertionReplayCache:
    """Assertion IDs that logged someone in; a second use is a replay."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def first_use(self, assertion_id: str, keep_until: datetime) -> bool:
        """Remember ``assertion_id`` until ``keep_until``; False when it was seen before."""
        now = self.clock()
        try:
            with self.db.write_session() as session:
                session.execute(delete(SamlAssertionRow).where(SamlAssertionRow.expires_at < now))
                session.add(SamlAssertionRow(id=assertion_id, expires_at=keep_until))
        except IntegrityError:
            return False
        return True
