"""Audit events written by the web interface, with the SAML NameID as ``actor.user``.

Services that audit their own changes (the consent registry) get the web user as their actor;
this writer covers the rest: administration through the registry service, which leaves
auditing to its callers, and refused SAML logins (``auth.failure``).
"""

from __future__ import annotations

from ..audit.log import AuditEvent, AuditLog
from ..clock import Clock
from ..storage.database import Database


class WebTrail:
    def __init__(self, db: Database, log: AuditLog, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.log = log

    def write(self, event: AuditEvent) -> None:
        with self.db.write_session() as session:
            self.log.append(session, event, self.clock())

    def admin(
        self,
        user,
        what: str,
        decision: str = "allowed",
        reason: str | None = None,
        recipient: str | None = None,
    ) -> None:
        """An ``admin.<what>`` event by a web user (``what`` like ``organisation.suspend``)."""
        self.write(
            AuditEvent(
                action=f"admin.{what}",
                decision=decision,
                reason=reason,
                actor_org=user.org_oin,
                actor_user=user.name_id,
                recipient=recipient,
            )
        )
