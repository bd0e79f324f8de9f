"""The ``regions`` block and the organisations' ``serves`` key (docs/pact-workflows.md 6.2).

A region is a pact region: its municipalities (CBS gemeentecodes, 4 digits, each in one
region), its norm for a homebound child in days, and the organisation holding
doorzettingsmacht with the citation of the agreement. ``serves`` says which municipalities or
regions an organisation serves, optionally for some education sectors; role addresses resolve
through it (:mod:`gateway.registry.areas`).

Like the rest of the file it is additive: a region left out is kept (``remove: true`` deletes
one), an organisation without ``serves`` keeps its areas (``serves: {}`` clears them). The
checks that need only the file run with the others (``file:line: path: message``); those that
need the registry (a holder or a region that is not in the file) run when the plan is applied,
before anything is written, with the same ``file:line: path`` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import delete, select

from schemas.vocabulary import EDUCATION_SECTORS

from ..registry import rules
from ..registry.areas import MUNICIPALITY, REGION
from ..registry.models import OrganisationArea, Region, RegionMunicipality
from ..storage.models import Organisation, utcnow
from .errors import BootstrapError
from .plan import BootstrapFile, BootstrapReport, OrganisationPlan, RegionPlan, ServesPlan

REGION_KEYS = {
    "code",
    "name",
    "municipalities",
    "homebound_norm_days",
    "escalation_recipient",
    "escalation_basis",
    "remove",
}
SERVES_KEYS = {"municipalities", "regions", "sectors"}
ESCALATION_TYPES = ("swv", "leerplicht")
"""Who may hold doorzettingsmacht: a regional coordinator is registered under an SWV or a
leerplicht organisation (OPEN-2)."""

REGION_CODE = re.compile(r"[a-z0-9-]{2,40}")
MUNICIPALITY_CODE = re.compile(r"[0-9]{4}")
MUNICIPALITY_MESSAGE = "must be a CBS gemeentecode of exactly 4 digits (without GM)"

Problem = Callable[[tuple, str], None]
Where = Callable[[tuple], str]


# checking the file ----------------------------------------------------------------------------
def check_regions(value: object, problem: Problem, where: Where) -> list[RegionPlan]:
    """The plans of the ``regions`` list; every problem reported through ``problem``."""
    if not isinstance(value, list):
        problem(("regions",), "must be a list")
        return []
    plans: list[RegionPlan] = []
    codes: set[str] = set()
    municipalities: dict[str, str] = {}
    for index, item in enumerate(value):
        path = ("regions", index)
        plan = _region(item, path, problem, where)
        if plan is None:
            continue
        if plan.code in codes:
            problem((*path, "code"), "is listed twice")
        codes.add(plan.code)
        for position, code in enumerate(plan.municipalities):
            if code in municipalities and municipalities[code] != plan.code:
                problem(
                    (*path, "municipalities", position),
                    f"{code} lies in region {municipalities[code]} already: "
                    "a municipality lies in one region",
                )
            municipalities.setdefault(code, plan.code)
        plans.append(plan)
    return plans


def _region(item: object, path: tuple, problem: Problem, where: Where) -> RegionPlan | None:
    if not isinstance(item, dict):
        problem(path, "must be a mapping")
        return None
    before = _Count(problem)
    report = before.problem
    for key in item:
        if key not in REGION_KEYS:
            report((*path, key), f"unknown key (allowed: {', '.join(sorted(REGION_KEYS))})")
    code = item.get("code")
    if not isinstance(code, str) or not REGION_CODE.fullmatch(code):
        report((*path, "code"), "must be 2-40 characters of a-z, 0-9 and '-'")
    remove = item.get("remove", False)
    if remove not in (True, False):
        report((*path, "remove"), "must be true or false")
    if remove is True:
        extra = sorted(str(key) for key in item if key not in ("code", "remove"))
        if extra:
            report(path, f"a region to remove names only its code (not {', '.join(extra)})")
        return None if before.found else RegionPlan(code, remove=True, where=where(path))
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        report((*path, "name"), "must be 1-200 characters")
    municipalities = _codes(
        item.get("municipalities"),
        (*path, "municipalities"),
        report,
        MUNICIPALITY_CODE,
        MUNICIPALITY_MESSAGE,
        required=True,
    )
    norm = item.get("homebound_norm_days")
    if isinstance(norm, bool) or not isinstance(norm, int) or not 1 <= norm <= 365:
        report((*path, "homebound_norm_days"), "must be a whole number of days from 1 to 365")
    recipient = item.get("escalation_recipient")
    if recipient is not None:
        report_rule = rules.oin_problem(recipient)
        if report_rule:
            report((*path, "escalation_recipient"), report_rule)
    basis = item.get("escalation_basis")
    if basis is not None and (not isinstance(basis, str) or not 1 <= len(basis.strip()) <= 300):
        report((*path, "escalation_basis"), "must be 1-300 characters")
    elif recipient is not None and basis is None:
        report(
            (*path, "escalation_recipient"),
            "needs escalation_basis: cite the agreement that gives it doorzettingsmacht",
        )
    if before.found:
        return None
    return RegionPlan(
        code,
        name.strip(),
        municipalities,
        norm,
        recipient,
        basis.strip() if basis is not None else None,
        where=where(path),
        wheres={key: where((*path, key)) for key in item},
    )


def check_serves(value: object, path: tuple, problem: Problem, where: Where) -> ServesPlan | None:
    """An organisation's ``serves`` mapping, or None after a problem."""
    if not isinstance(value, dict):
        problem(path, "must be a mapping with municipalities, regions and/or sectors")
        return None
    count = _Count(problem)
    for key in value:
        if key not in SERVES_KEYS:
            count.problem((*path, key), f"unknown key (allowed: {', '.join(sorted(SERVES_KEYS))})")
    municipalities = _codes(
        value.get("municipalities", []),
        (*path, "municipalities"),
        count.problem,
        MUNICIPALITY_CODE,
        MUNICIPALITY_MESSAGE,
    )
    regions = _codes(
        value.get("regions", []),
        (*path, "regions"),
        count.problem,
        REGION_CODE,
        "must be a region code: 2-40 characters of a-z, 0-9 and '-'",
    )
    sectors = None
    if "sectors" in value:
        sectors = _codes(
            value["sectors"],
            (*path, "sectors"),
            count.problem,
            None,
            f"must be one of {', '.join(EDUCATION_SECTORS)}",
            required=True,
        )
    if count.found:
        return None
    return ServesPlan(
        municipalities,
        regions,
        sectors,
        where=where(path),
        wheres={key: where((*path, key)) for key in value},
    )


def check_links(
    regions: list[RegionPlan],
    organisations: list[OrganisationPlan],
    located: Callable[[str, str], None],
) -> None:
    """What the file says about itself: a holder in the file is an SWV or leerplicht office;
    a leerplicht office's municipalities lie in one region (OPEN-12). A holder or a region
    that is not in the file is checked against the registry when the plan is applied."""
    types = {org.oin: org.type for org in organisations}
    for region in regions:
        holder = region.escalation_recipient
        if holder in types and types[holder] not in ESCALATION_TYPES:
            located(
                region.at("escalation_recipient"),
                f"must be an organisation of type {' or '.join(ESCALATION_TYPES)}, "
                f"not {types[holder]}",
            )
    region_of = _file_region_of(regions)
    for org in organisations:
        if org.type == "leerplicht" and org.serves is not None:
            spread = _regions_served(org.serves, region_of)
            if len(spread) > 1:
                located(org.serves.where, _spread_message(spread))


def _file_region_of(regions: list[RegionPlan]) -> dict[str, str]:
    return {code: r.code for r in regions if not r.remove for code in r.municipalities}


def _regions_served(serves: ServesPlan, region_of: dict[str, str]) -> set[str]:
    return set(serves.regions) | {region_of[m] for m in serves.municipalities if m in region_of}


def _spread_message(spread: set[str]) -> str:
    return (
        f"a leerplicht organisation serves one region, not {', '.join(sorted(spread))}: "
        "its homebound reports would not say which norm applies"
    )


def _codes(
    value: object,
    path: tuple,
    problem: Problem,
    pattern: re.Pattern | None,
    message: str,
    required: bool = False,
) -> list[str]:
    """A list of codes, each matching ``pattern`` (or, without one, an education sector),
    none twice; ``required``: at least one."""
    if not isinstance(value, list):
        problem(path, "must be a list")
        return []
    if required and not value:
        problem(path, "must name at least one")
    codes: list[str] = []
    for index, code in enumerate(value):
        valid = isinstance(code, str) and (
            pattern.fullmatch(code) if pattern else code in EDUCATION_SECTORS
        )
        if not valid:
            problem((*path, index), message)
        elif code in codes:
            problem((*path, index), "is listed twice")
        else:
            codes.append(code)
    return codes


class _Count:
    """Passes problems on and remembers whether there were any."""

    def __init__(self, problem: Problem) -> None:
        self._problem = problem
        self.found = False

    def problem(self, path: tuple, message: str) -> None:
        self.found = True
        self._problem(path, message)


# applying -------------------------------------------------------------------------------------
def check_against_registry(session, plan: BootstrapFile) -> None:
    """The checks that need the registry, run in the bootstrap's transaction after the file's
    organisations are written and before any region or area is: raise
    :class:`BootstrapError` listing every problem."""
    problems: list[str] = []
    kept = {r.code for r in plan.regions if not r.remove}
    removed = {r.code for r in plan.regions if r.remove}
    stored = dict(session.execute(select(Region.code, Region.id)).all())
    known = (set(stored) - removed) | kept
    for region in plan.regions:
        if region.remove or region.escalation_recipient is None:
            continue
        holder = session.scalars(
            select(Organisation).where(Organisation.oin == region.escalation_recipient)
        ).first()
        if holder is None:
            problems.append(
                f"{region.at('escalation_recipient')}: no organisation has this OIN (neither "
                "in the file nor registered)"
            )
        elif holder.type not in ESCALATION_TYPES:
            problems.append(
                f"{region.at('escalation_recipient')}: must be an organisation of type "
                f"{' or '.join(ESCALATION_TYPES)}, not {holder.type}"
            )
    in_file = {r.code for r in plan.regions}
    stored_municipalities = dict(
        session.execute(
            select(RegionMunicipality.municipality, Region.code).join(
                Region, Region.id == RegionMunicipality.region_id
            )
        ).all()
    )
    for region in plan.regions:
        for code in region.municipalities:
            other = stored_municipalities.get(code)
            if other is not None and other != region.code and other not in in_file:
                problems.append(
                    f"{region.at('municipalities')}: {code} lies in region {other} already: "
                    "a municipality lies in one region"
                )
    region_of = {
        code: region for code, region in stored_municipalities.items() if region not in in_file
    }
    region_of.update(_file_region_of(plan.regions))
    serving = {org.oin: org for org in plan.organisations if org.serves is not None}
    for org in serving.values():
        for code in org.serves.regions:
            if code not in known:
                problems.append(
                    f"{org.serves.at('regions')}: no region {code} (neither in the "
                    "file nor registered)"
                )
        if org.type == "leerplicht":
            spread = _regions_served(org.serves, region_of)
            if len(spread) > 1:
                problems.append(f"{org.serves.where}: {_spread_message(spread)}")
    for region in plan.regions:
        if not region.remove or region.code not in stored:
            continue
        users = session.execute(
            select(Organisation.oin)
            .join(OrganisationArea, OrganisationArea.org_id == Organisation.id)
            .where(OrganisationArea.kind == REGION, OrganisationArea.code == region.code)
        ).scalars()
        still = sorted(
            oin for oin in users if oin not in serving or region.code in serving[oin].serves.regions
        )
        if still:
            problems.append(
                f"{region.where}: region {region.code} is still served by {', '.join(still)}; "
                "change their serves first"
            )
    if problems:
        raise BootstrapError(problems)


def apply_regions(session, regions: list[RegionPlan], report: BootstrapReport) -> None:
    """Create, update or delete each region the file names; its municipalities are replaced
    by the file's list. Municipalities leave their old rows first, so one may move between two
    regions of the same file."""
    rows = {r.code: r for r in session.scalars(select(Region))}
    current: dict[str, set[str]] = {}
    for code, row in rows.items():
        current[code] = set(
            session.scalars(
                select(RegionMunicipality.municipality).where(
                    RegionMunicipality.region_id == row.id
                )
            )
        )
    moving = [r for r in regions if r.remove or set(r.municipalities) != current.get(r.code, set())]
    for region in moving:
        if region.code in rows:
            session.execute(
                delete(RegionMunicipality).where(
                    RegionMunicipality.region_id == rows[region.code].id
                )
            )
    session.flush()
    for region in regions:
        label = f"region {region.code}"
        row = rows.get(region.code)
        if region.remove:
            if row is None:
                report.unchanged.append(label)
            else:
                session.delete(row)
                report.removed.append(label)
            continue
        wanted = {
            "name": region.name,
            "homebound_norm_days": region.homebound_norm_days,
            "escalation_org_id": _org_id(session, region.escalation_recipient),
            "escalation_basis": region.escalation_basis,
        }
        if row is None:
            row = Region(code=region.code, updated_at=utcnow(), **wanted)
            session.add(row)
            session.flush()
            report.created.append(label)
        elif region in moving or any(getattr(row, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            report.updated.append(label)
        else:
            report.unchanged.append(label)
        if region in moving:
            for code in region.municipalities:
                session.add(RegionMunicipality(region_id=row.id, municipality=code))
    session.flush()


def apply_serves(
    session, organisation: Organisation, serves: ServesPlan, report: BootstrapReport
) -> None:
    """Replace the organisation's areas by the file's ``serves``; a change is an
    ``admin.organisation.update`` (one per organisation, also when its record changed too;
    none for an organisation this run created, whose creation covers it)."""
    wanted = {(MUNICIPALITY, code) for code in serves.municipalities} | {
        (REGION, code) for code in serves.regions
    }
    rows = list(
        session.scalars(select(OrganisationArea).where(OrganisationArea.org_id == organisation.id))
    )
    have = {(row.kind, row.code): row for row in rows}
    if set(have) == wanted and all(row.sectors == serves.sectors for row in rows):
        return
    for key, row in have.items():
        if key not in wanted:
            session.delete(row)
        elif row.sectors != serves.sectors:
            row.sectors = serves.sectors
    for kind, code in sorted(wanted - set(have)):
        session.add(
            OrganisationArea(org_id=organisation.id, kind=kind, code=code, sectors=serves.sectors)
        )
    label = f"organisation {organisation.oin}"
    if label not in report.created and label not in report.updated:
        if label in report.unchanged:
            report.unchanged.remove(label)
        report.updated.append(label)


def _org_id(session, oin: str | None) -> int | None:
    if oin is None:
        return None
    return session.scalars(select(Organisation.id).where(Organisation.oin == oin)).first()
