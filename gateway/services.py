"""The services one process builds once in ``create_app`` and handlers reach through one accessor.

Handlers stay thin: they call ``services().<thing>`` and render; the services are plain Python
objects that tests call directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .config import Settings
from .keys import KeyStore
from .registry.service import OrganisationRegistry
from .storage.database import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    keys: KeyStore
    registry: OrganisationRegistry


def services() -> Services:
    return current_app.extensions["gateway"]
