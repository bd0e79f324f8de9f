"""Shared CLI helpers: settings, the command's services and friendly failures.

A command gets its services from :func:`services`: the same composition root the server
uses (:class:`gateway.composition.Services`), built once per command, so the worker, the
purge and the audit verifier write the audit log exactly as the API does.
"""

from __future__ import annotations

import click

from ..composition import Services
from ..config import ConfigurationError, Settings
from ..keys import KeyStore
from ..registry.service import OrganisationRegistry
from ..storage import migrate
from ..storage.database import Database

_SERVICES = "gateway.services"


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


def services(current: Settings) -> Services:
    """The services of this command over ``current`` (built on first use, then reused)."""
    context = click.get_current_context(silent=True)
    cache = context.find_root().meta.setdefault(_SERVICES, {}) if context is not None else {}
    found = cache.get(id(current))
    if found is None or found.settings is not current:
        found = cache[id(current)] = Services(current)
    return found


def database(current: Settings, *, upgrade_in_development: bool = True) -> Database:
    """Open the database; development applies migrations itself (API.md section 12)."""
    db = services(current).db
    if upgrade_in_development and not current.is_production:
        migrate.upgrade(db.engine)
    elif not migrate.is_current(db.engine):
        raise click.ClickException(
            "the database schema is not current; run 'gateway db upgrade' first"
        )
    return db


def registry(current: Settings) -> OrganisationRegistry:
    database(current)
    return services(current).registry


def keystore(current: Settings) -> KeyStore:
    try:
        return services(current).keys
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
