"""Which organisation serves which area, and the pact regions (docs/pact-workflows.md 6.1-6.3).

Pure queries over the registry's tables (ledger floor), shared by the exchange (a role address
in pipeline step 6), the pact's cases (role addresses of invitees and advisers) and the
escalation (a region's norm and holder):

- :func:`validate_role_address` checks an address's shape (422 ``validation_failed`` at the
  caller's path, ``recipient.municipality`` or ``invite.2.municipality``);
- :func:`resolve_address` finds the one organisation it names, whatever its status (a
  suspended office is reported as suspended by the caller, not as missing), or raises
  :class:`RecipientUnresolved` (404) / :class:`RecipientAmbiguous` (409);
- :func:`region_of_org` and :class:`RegionDirectory` read the regional configuration.

An answer depends only on the address and the registry, never on a child: resolution runs
before anything about the child is looked at, so it cannot be an oracle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from schemas.address import load_role_address

from ..storage.database import Database
from ..storage.models import Organisation
from .errors import RecipientAmbiguous, RecipientUnresolved
from .models import OrganisationArea, Region, RegionMunicipality

MUNICIPALITY, REGION = "municipality", "region"
"""The kinds of an :class:`OrganisationArea`."""


def validate_role_address(value: object, path: str = "recipient") -> dict:
    """The role address ``value`` as loaded, or ``SchemaValidationError`` with errors under
    ``<path>.<member>`` (the exchange answers it 422 ``validation_failed``). ``GM0014`` is
    refused with a message that says to drop the ``GM``."""
    return load_role_address(value, prefix=path)


def resolve_address(session: Session, address: Mapping, path: str = "recipient") -> Row:
    """The one organisation of ``address["type"]`` serving its area, as a row of ``id, oin,
    type, name, status, polymorphic``; every status counts (the caller refuses a suspended
    one, as for an OIN).

    A municipality is served by an organisation whose areas name it, or name the region it
    lies in; a region only by an organisation whose areas name that region. With an
    ``education_sector`` only areas listing that sector, or listing none (every sector),
    count. ``address`` must have passed :func:`validate_role_address`; ``path`` is where the
    refusal's ``errors`` point.
    """
    type_ = address["type"]
    sector = address.get("education_sector")
    if "municipality" in address:
        area = f"municipality {address['municipality']}"
        served = _areas_of_municipality(address["municipality"])
    else:
        area = f"region {address['region']}"
        served = (OrganisationArea.kind == REGION) & (OrganisationArea.code == address["region"])
    rows = session.execute(
        select(OrganisationArea.org_id, OrganisationArea.sectors).where(served)
    ).all()
    org_ids = sorted({org_id for org_id, sectors in rows if _serves_sector(sectors, sector)})
    matches = (
        session.execute(
            select(
                Organisation.id,
                Organisation.oin,
                Organisation.type,
                Organisation.name,
                Organisation.status,
                Organisation.polymorphic,
            )
            .where(Organisation.id.in_(org_ids), Organisation.type == type_)
            .order_by(Organisation.oin)
        ).all()
        if org_ids
        else []
    )
    for_sector = f" for education sector {sector}" if sector else ""
    if not matches:
        message = f"No {type_} organisation serves {area}{for_sector}."
        raise RecipientUnresolved(message, errors={path: [message]})
    if len(matches) > 1:
        hint = "address one by OIN" if sector else "add education_sector or address one by OIN"
        message = f"{len(matches)} {type_} organisations serve {area}{for_sector}; {hint}."
        raise RecipientAmbiguous(message, errors={path: [message]})
    return matches[0]


def _areas_of_municipality(municipality: str):
    """The condition on ``OrganisationArea`` for "serves this municipality": directly, or
    through the region it lies in."""
    region_code = (
        select(Region.code)
        .join(RegionMunicipality, RegionMunicipality.region_id == Region.id)
        .where(RegionMunicipality.municipality == municipality)
        .scalar_subquery()
    )
    return or_(
        (OrganisationArea.kind == MUNICIPALITY) & (OrganisationArea.code == municipality),
        (OrganisationArea.kind == REGION) & (OrganisationArea.code == region_code),
    )


def _serves_sector(sectors: list | None, sector: str | None) -> bool:
    return sector is None or not sectors or sector in sectors


# regions --------------------------------------------------------------------------------------
def regions_of_org(session: Session, org_id: int) -> list[str]:
    """The codes of the regions an organisation serves: those its areas name, and those its
    municipalities lie in; sorted, without repeats."""
    areas = session.execute(
        select(OrganisationArea.kind, OrganisationArea.code).where(
            OrganisationArea.org_id == org_id
        )
    ).all()
    codes = {code for kind, code in areas if kind == REGION}
    municipalities = [code for kind, code in areas if kind == MUNICIPALITY]
    if municipalities:
        codes.update(
            session.scalars(
                select(Region.code)
                .join(RegionMunicipality, RegionMunicipality.region_id == Region.id)
                .where(RegionMunicipality.municipality.in_(municipalities))
            )
        )
    return sorted(codes)


def region_of_org(session: Session, org_id: int) -> str | None:
    """The one region an organisation works in (a leerplicht office reporting a homebound
    child: the region of the municipalities it serves), or None when it serves none or
    several (the bootstrap refuses a leerplicht office in two regions, OPEN-12)."""
    codes = regions_of_org(session, org_id)
    return codes[0] if len(codes) == 1 else None


@dataclass(frozen=True)
class HolderRef:
    """The organisation holding doorzettingsmacht in a region."""

    id: int
    oin: str
    type: str
    name: str
    status: str


@dataclass(frozen=True)
class RegionInfo:
    """One region as configured: what the escalation and the operator's pages read."""

    code: str
    name: str
    municipalities: tuple[str, ...]
    homebound_norm_days: int
    holder: HolderRef | None
    escalation_basis: str | None


class RegionDirectory:
    """Read API of the regional configuration over one session (section 6.3).

    Built per run and read without a cache, so a bootstrap change applies to the next run.
    The escalation asks: which region is this reporter in (:meth:`region_of_reporter`), and
    for that region the norm in days, the holder and the citation of the agreement
    (:meth:`norm_days`, :meth:`holder`, :meth:`basis`). An unknown region code gives None.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def region_of_reporter(self, org_id: int) -> str | None:
        return region_of_org(self.session, org_id)

    def region(self, code: str) -> RegionInfo | None:
        row = self.session.scalars(select(Region).where(Region.code == code)).first()
        return self._info(row) if row is not None else None

    def regions(self) -> list[RegionInfo]:
        """Every region, by code."""
        return [
            self._info(row) for row in self.session.scalars(select(Region).order_by(Region.code))
        ]

    def norm_days(self, code: str) -> int | None:
        info = self.region(code)
        return info.homebound_norm_days if info else None

    def holder(self, code: str) -> HolderRef | None:
        info = self.region(code)
        return info.holder if info else None

    def basis(self, code: str) -> str | None:
        info = self.region(code)
        return info.escalation_basis if info else None

    def _info(self, row: Region) -> RegionInfo:
        municipalities = tuple(
            self.session.scalars(
                select(RegionMunicipality.municipality)
                .where(RegionMunicipality.region_id == row.id)
                .order_by(RegionMunicipality.municipality)
            )
        )
        holder = None
        if row.escalation_org_id is not None:
            org = self.session.get(Organisation, row.escalation_org_id)
            if org is not None:
                holder = HolderRef(org.id, org.oin, org.type, org.name, org.status)
        return RegionInfo(
            row.code,
            row.name,
            municipalities,
            row.homebound_norm_days,
            holder,
            row.escalation_basis,
        )


def serves_of(session: Session, org_ids: list[int] | None = None) -> dict[int, dict]:
    """What each organisation serves, as the bootstrap file writes it: ``{org_id:
    {"municipalities": [...], "regions": [...], "sectors": [...] | None}}`` (the sectors of
    its first area: the bootstrap gives every area of one organisation the same sectors)."""
    query = select(OrganisationArea).order_by(
        OrganisationArea.org_id, OrganisationArea.kind, OrganisationArea.code
    )
    if org_ids is not None:
        query = query.where(OrganisationArea.org_id.in_(org_ids))
    result: dict[int, dict] = {}
    for area in session.scalars(query):
        entry = result.setdefault(
            area.org_id, {"municipalities": [], "regions": [], "sectors": area.sectors}
        )
        entry["municipalities" if area.kind == MUNICIPALITY else "regions"].append(area.code)
    return result


@dataclass(frozen=True)
class RegionalOverview:
    """What the operator's organisations page shows of the regional configuration: every
    region, and what each organisation serves (by organisation id, as :func:`serves_of`)."""

    regions: list[RegionInfo]
    serves: dict[int, dict]


def regional_overview(db: Database) -> RegionalOverview:
    """The regions and every organisation's areas, read in one session (read-only: the
    bootstrap file is the one writer, OPEN-19)."""
    with db.session() as session:
        return RegionalOverview(RegionDirectory(session).regions(), serves_of(session))
