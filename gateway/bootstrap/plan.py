"""What a checked bootstrap file asks for, and what applying it changed.

Plain data shared by the checker (``file``) and the writer (``apply``); ``sync_row`` is the one
"create, update or leave alone" step that organisations and route policies share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..registry.service import ClientCredentials
from ..storage.models import utcnow


@dataclass
class ClientPlan:
    client_id: str
    scopes: list[str]
    credentials: ClientCredentials


@dataclass
class ServesPlan:
    """An organisation's ``serves``: the municipalities and regions it serves, for the
    education sectors listed (None: every sector). ``where`` is the ``file:line: path``
    of the key, for the checks that need the database (a region not in the file)."""

    municipalities: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    sectors: list[str] | None = None
    where: str = ""
    wheres: dict[str, str] = field(default_factory=dict)
    """``file:line: path`` of each key, for problems found after the file was read."""

    def at(self, key: str) -> str:
        return self.wheres.get(key, f"{self.where}.{key}")


@dataclass
class OrganisationPlan:
    oin: str
    name: str
    type: str
    status: str
    delivery_url: str | None
    clients: list[ClientPlan] = field(default_factory=list)
    polymorphic: bool = False
    serves: ServesPlan | None = None
    """None: the file says nothing about the areas, which are left as they are."""
    brin: str | None = None
    kvk: str | None = None
    """The identifiers federated sign-in maps to the organisation (issue 21)."""


@dataclass
class RegionPlan:
    """One entry of the ``regions`` block (docs/pact-workflows.md section 6.2); ``where``
    is its ``file:line: path``, for the checks that need the database."""

    code: str
    name: str | None = None
    municipalities: list[str] = field(default_factory=list)
    homebound_norm_days: int | None = None
    escalation_recipient: str | None = None
    escalation_basis: str | None = None
    remove: bool = False
    where: str = ""
    wheres: dict[str, str] = field(default_factory=dict)
    """``file:line: path`` of each key, for problems found after the file was read."""

    def at(self, key: str) -> str:
        return self.wheres.get(key, f"{self.where}.{key}")


@dataclass
class BootstrapFile:
    """A validated bootstrap file: what to apply, and the raw ``saml`` block."""

    path: Path
    organisations: list[OrganisationPlan]
    saml: dict | None
    routes: list[dict] = field(default_factory=list)
    saml_setup: object | None = None
    """The checked ``saml`` block (:class:`gateway.saml.setup.SamlSetup`), stored on apply."""
    regions: list[RegionPlan] = field(default_factory=list)


@dataclass
class BootstrapReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def sync_row(session, row, wanted: dict, label: str, report: BootstrapReport, create: Callable):
    """Bring ``row`` to the ``wanted`` column values and return it: a missing row is made by
    ``create(wanted)`` and added, a differing row is updated (and its ``updated_at`` set), an
    equal row is left untouched, so that a second run writes nothing."""
    if row is None:
        row = create(wanted)
        session.add(row)
        report.created.append(label)
    elif any(getattr(row, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        report.updated.append(label)
    else:
        report.unchanged.append(label)
    return row
