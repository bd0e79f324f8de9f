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
class OrganisationPlan:
    oin: str
    name: str
    type: str
    status: str
    delivery_url: str | None
    clients: list[ClientPlan] = field(default_factory=list)
    polymorphic: bool = False


@dataclass
class BootstrapFile:
    """A validated bootstrap file: what to apply, and the raw ``saml`` block."""

    path: Path
    organisations: list[OrganisationPlan]
    saml: dict | None
    routes: list[dict] = field(default_factory=list)
    saml_setup: object | None = None
    """The checked ``saml`` block (:class:`gateway.saml.setup.SamlSetup`), stored on apply."""


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
