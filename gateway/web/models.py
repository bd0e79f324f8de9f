"""The web session table: sessions live on the server, the cookie holds only a random token.

Server-side sessions can be ended from anywhere: by ``/logout``, by the IdP's single logout
(by NameID), and by the timeouts, in every process at once. The token itself is never stored,
only its SHA-256, so a copy of the table does not let anyone take over a session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class WebSessionRow(Base):
    __tablename__ = "web_sessions"
    __table_args__ = (
        Index("ix_web_sessions_name_id", "name_id"),
        Index("ix_web_sessions_expires_at", "expires_at"),
        Index("ix_web_sessions_idp", "idp"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(400))
    name_id_format: Mapped[str | None] = mapped_column(String(200), nullable=True)
    session_index: Mapped[str | None] = mapped_column(String(200), nullable=True)
    display_name: Mapped[str] = mapped_column(String(200))
    org_oin: Mapped[str | None] = mapped_column(String(20), nullable=True)
    idp: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """The key of the IdP that signed the person in (suspending it ends its sessions)."""
    roles: Mapped[list] = mapped_column(JSON)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
