"""Who reads the audit log or decides on a re-identification: a client or a web user.

The API passes an OAuth caller, the web interface (later) a SAML user of an organisation;
both become an :class:`Actor`, so the services that decide visibility and approval are the
same for both (ARCHITECTURE.md: one place per rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from .log import AuditEvent

OPERATOR = "operator"


@dataclass(frozen=True)
class Actor:
    """An organisation acting through one of its clients or one of its web users."""

    org_oin: str | None
    org_type: str | None
    client_id: str | None = None
    user: str | None = None

    @classmethod
    def from_caller(cls, caller) -> Actor:
        """From :class:`gateway.oauth.protect.Caller`."""
        return cls(caller.org_oin, caller.org_type, client_id=caller.client_id)

    @classmethod
    def web_user(cls, org_oin: str, org_type: str, name_id: str) -> Actor:
        return cls(org_oin, org_type, user=name_id)

    @property
    def is_operator(self) -> bool:
        return self.org_type == OPERATOR

    def event(self, action: str, decision: str = "allowed", **fields) -> AuditEvent:
        """An audit event of something this actor did (or attempted)."""
        return AuditEvent(
            action=action,
            decision=decision,
            actor_org=self.org_oin,
            actor_client_id=self.client_id,
            actor_user=self.user,
            **fields,
        )
