"""Tables of the authorization server: the assertion replay cache and the issued tokens.

Both live in the shared database, not in process memory, because gateway processes are
stateless replicas (ARCHITECTURE.md): a ``jti`` seen by one worker must be refused by every
other worker and after a restart (RFC 7523 section 3, item 7), and a revocation made through
one process must stop the token in all of them (RFC 7009 section 2). Times are Unix seconds,
the unit of the JWT ``exp``/``iat`` claims they mirror, so comparisons are plain integers on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class AssertionJti(Base):
    """A client assertion's ``jti``, kept until the assertion's ``exp`` plus the clock skew.

    The unique constraint on (client_id, jti) is the atomic replay check: the INSERT of a
    replayed assertion fails with an integrity error in whichever process sees it second.
    """

    __tablename__ = "oauth_assertion_jtis"
    __table_args__ = (UniqueConstraint("client_id", "jti", name="uq_oauth_assertion_jtis"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class AccessToken(Base):
    """An issued access token (RFC 9068), by ``jti``; never the token itself."""

    __tablename__ = "oauth_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100), index=True)
    auth_method: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(100))
    x5t_s256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
