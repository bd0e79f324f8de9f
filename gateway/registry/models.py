"""Tables of the regional configuration (issue 20; docs/pact-workflows.md section 6.2).

A **region** is a pact region (Groningen, Lekstroom): the municipalities it covers, its norm
for a homebound child in days, and the organisation holding doorzettingsmacht with the
citation of the agreement that gives it. An **organisation area** says which municipalities or
regions an organisation serves, optionally only for some education sectors; role addresses
(``{"type": "leerplicht", "municipality": "0014"}``) resolve through it
(:mod:`gateway.registry.areas`). The bootstrap file writes all three; nothing else does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base, utcnow


class Region(Base):
    """A pact region with its homebound norm and its holder of doorzettingsmacht."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    homebound_norm_days: Mapped[int] = mapped_column(Integer)
    # null: no escalation configured for the region
    escalation_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True
    )
    escalation_basis: Mapped[str | None] = mapped_column(String(300), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RegionMunicipality(Base):
    """A municipality (CBS gemeentecode, 4 digits) of a region; it lies in one region only,
    so the municipality alone is unique."""

    __tablename__ = "region_municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    municipality: Mapped[str] = mapped_column(String(4), unique=True)


class OrganisationArea(Base):
    """An area an organisation serves: a municipality or a region (``kind``), for the
    education sectors listed (``sectors``; null: every sector)."""

    __tablename__ = "organisation_areas"
    __table_args__ = (UniqueConstraint("org_id", "kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # municipality | region
    code: Mapped[str] = mapped_column(String(40))
    sectors: Mapped[list | None] = mapped_column(JSON, nullable=True)
