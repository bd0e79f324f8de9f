"""Server-side web sessions with an idle and an absolute timeout.

The cookie carries 256 random bits; the table keys the session by their SHA-256. A session
ends after 30 minutes without a request or 8 hours after login, whichever comes first,
because these pages show personal data on shared office computers. The organisation is read
again on every request, so suspending it locks its people out at once, as it does its
clients. Each session records the IdP that signed the person in (issue 21): single logout ends
only that IdP's sessions, and suspending an IdP ends all of them
(:func:`gateway.saml.idps.end_sessions`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from ..clock import Clock
from ..clock import aware as _aware
from ..saml.identity import SamlIdentity
from ..storage.database import Database
from ..storage.models import Organisation
from .access import effective_roles
from .models import WebSessionRow

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
TOUCH_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class WebUser:
    """The person behind a session, with the roles that apply to them right now."""

    name_id: str
    display_name: str
    roles: tuple[str, ...]
    org_oin: str | None
    org_id: int | None
    org_type: str | None
    org_name: str | None
    csrf_token: str
    org_status: str | None = None
    name_id_format: str | None = None
    session_index: str | None = None
    claimed_roles: tuple[str, ...] = ()
    idp: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.org_type == "operator"

    def has(self, role: str) -> bool:
        return role in self.roles


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def create(self, identity: SamlIdentity) -> str:
        """Start a session for a verified login; returns the cookie token."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.db.write_session() as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
            session.add(
                WebSessionRow(
                    token_hash=token_hash(token),
                    name_id=identity.name_id[:400],
                    name_id_format=identity.name_id_format,
                    session_index=identity.session_index,
                    display_name=identity.display_name,
                    org_oin=identity.org_oin,
                    idp=identity.idp,
                    roles=list(identity.roles),
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + ABSOLUTE_TIMEOUT,
                )
            )
        return token

    def load(self, token: str | None) -> WebUser | None:
        """The user of a live session; an expired one is deleted and gives None."""
        if not token or len(token) > 100:
            return None
        key = token_hash(token)
        now = self.clock()
        with self.db.session() as session:
            row = session.get(WebSessionRow, key)
            if row is None:
                return None
            idle_until = _aware(row.last_seen_at) + IDLE_TIMEOUT
            if now >= _aware(row.expires_at) or now >= idle_until:
                session.delete(row)
                return None
            if now - _aware(row.last_seen_at) >= TOUCH_AFTER:
                row.last_seen_at = now
            organisation = None
            if row.org_oin:
                organisation = session.scalars(
                    select(Organisation).where(Organisation.oin == row.org_oin)
                ).first()
            return WebUser(
                name_id=row.name_id,
                display_name=row.display_name,
                roles=effective_roles(tuple(row.roles), organisation),
                org_oin=row.org_oin,
                org_id=organisation.id if organisation else None,
                org_type=organisation.type if organisation else None,
                org_name=organisation.name if organisation else None,
                csrf_token=row.csrf_token,
                org_status=organisation.status if organisation else None,
                name_id_format=row.name_id_format,
                session_index=row.session_index,
                claimed_roles=tuple(row.roles),
                idp=row.idp,
            )

    def end(self, token: str | None) -> None:
        if token:
            with self.db.write_session() as session:
                session.execute(
                    delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash(token))
                )

    def end_for(
        self, name_id: str, session_index: str | None = None, idp: str | None = None
    ) -> int:
        """End the sessions of ``name_id`` (IdP-initiated logout); how many ended.

        With ``idp``, only the sessions that IdP started: a NameID is unique per IdP only.
        """
        query = delete(WebSessionRow).where(WebSessionRow.name_id == name_id)
        if idp is not None:
            query = query.where(WebSessionRow.idp == idp)
        if session_index:
            query = query.where(WebSessionRow.session_index == session_index)
        with self.db.write_session() as session:
            return session.execute(query).rowcount or 0
