"""Tables of the SAML service provider.

Everything a login needs between two HTTP requests lives in the database, not in a process:
gunicorn runs several workers and production several replicas, and the AuthnRequest may be
sent by one process while the IdP posts the response to another.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class SamlSettingsRow(Base):
    """The ``saml:`` block of the bootstrap file (a single row, ``id`` 1).

    The IdP metadata document is stored as read at bootstrap time, so every replica uses the
    same one without sharing a file system; ``GATEWAY_SAML_IDP_METADATA`` overrides it.
    """

    __tablename__ = "saml_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attributes: Mapped[dict] = mapped_column(JSON)
    roles: Mapped[dict] = mapped_column(JSON)
    idp_metadata: Mapped[str] = mapped_column(Text)
    metadata_file: Mapped[str] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SamlRequestRow(Base):
    """An AuthnRequest or LogoutRequest we sent and whose answer we still accept.

    A response is accepted only with the ``InResponseTo`` of a row here, and the row is
    deleted when it is used: each request is answered at most once.
    """

    __tablename__ = "saml_requests"
    __table_args__ = (Index("ix_saml_requests_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    relay_state: Mapped[str] = mapped_column(String(2000))
    idp: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """The key of the IdP the request went to: only that IdP's answer is accepted for it."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SamlAssertionRow(Base):
    """An assertion ID already used to log in; kept until the assertion has expired."""

    __tablename__ = "saml_assertions"
    __table_args__ = (Index("ix_saml_assertions_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SamlIdpRow(Base):
    """One registered identity provider (issue 21): the bootstrap file's ``saml.idps`` list
    and the admin pages write these rows.

    ``metadata`` is the last good copy of the IdP's own ``EntityDescriptor`` (for a URL: as
    extracted from the fetched, signature-verified document); a failed refresh leaves it as it
    is and records why in ``metadata_error``. ``valid_until`` is the document's ``validUntil``:
    once past, the IdP signs no one in until a fresh copy arrives.
    """

    __tablename__ = "saml_idps"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    profile: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(1000))
    binding: Mapped[str] = mapped_column(String(20))
    encrypt_assertions: Mapped[bool] = mapped_column(Boolean)
    authn_context: Mapped[list] = mapped_column(JSON)
    organisations: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """Explicit OINs the IdP may vouch for; None: every organisation whose registry entry
    carries the identifier it asserts."""
    roles: Mapped[dict] = mapped_column(JSON)
    attributes: Mapped[dict] = mapped_column(JSON)
    metadata_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    metadata_file: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    metadata_signer: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadata_xml: Mapped[str | None] = mapped_column(Text, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    refresh_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    metadata_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
