"""Tables of the organisation registry; later areas add their own model modules on ``Base``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base shared by every gateway table (Alembic's ``target_metadata``)."""


class Organisation(Base):
    """A partner organisation, identified by its 20-digit OIN."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    oin: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="active")
    delivery_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # the identifiers federated sign-in maps to this organisation (issue 21): an Entree IdP
    # asserts the school's BRIN, an eHerkenning broker the KvK number (``12345678``, or with
    # a vestigingsnummer ``12345678/000012345678``)
    brin: Mapped[str | None] = mapped_column(String(4), nullable=True, index=True)
    kvk: Mapped[str | None] = mapped_column(String(21), nullable=True, index=True)
    # takes part in polymorphic pseudonymisation: gets a key share, receives encrypted pseudonyms
    polymorphic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    clients: Mapped[list[Client]] = relationship(
        back_populates="organisation", order_by="Client.client_id"
    )


class Client(Base):
    """An OAuth client (a partner system) acting for one organisation."""

    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    auth_method: Mapped[str] = mapped_column(String(40))
    jwks: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    tls_cert_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    secret_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="clients")
