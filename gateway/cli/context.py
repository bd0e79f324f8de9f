"""Shared CLI helpers: settings, database and friendly failures."""

from __future__ import annotations

import click

from ..config import ConfigurationError, Settings
from ..keys import KeyStore
from ..registry.service import OrganisationRegistry
from ..storage import migrate
from ..storage.database import Database


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


def database(current: Settings, *, upgrade_in_development: bool = True) -> Database:
    """Open the database; development applies migrations itself (API.md section 12)."""
    db = Database(current.database_url)
    if upgrade_in_development and not current.is_production:
        migrate.upgrade(db.engine)
    elif not migrate.is_current(db.engine):
        raise click.ClickException(
            "the database schema is not current; run 'gateway db upgrade' first"
        )
    return db


def registry(current: Settings) -> OrganisationRegistry:
    return OrganisationRegistry(database(current), production=current.is_production)


def keystore(current: Settings) -> KeyStore:
    try:
        return KeyStore(current.keys_dir, allow_generate=not current.is_production)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
