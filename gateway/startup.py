"""Checks made once when a process starts: production refuses unsafe configurations.

Each refusal names the setting to change, because an operator reading a crash-looping pod's
log must know what to fix without reading code.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from .config import ConfigurationError, Settings, production_problems
from .registry.service import OrganisationRegistry
from .storage import migrate
from .storage.database import Database


def check_production(settings: Settings, db: Database, registry: OrganisationRegistry) -> None:
    """Raise :class:`ConfigurationError` listing every unsafe production setting."""
    if not settings.is_production:
        return
    problems = production_problems(settings)
    try:
        if not migrate.is_current(db.engine):
            problems.append(
                "GATEWAY_DATABASE_URL: the database schema is not current; run 'gateway db upgrade'"
            )
        elif registry.uses_client_secrets():
            problems.append(
                "client_secret_basic: a registered client uses client secrets, which production "
                "refuses; give it private_key_jwt or tls_client_auth"
            )
    except SQLAlchemyError as exc:
        problems.append(f"GATEWAY_DATABASE_URL: the database is unreachable ({type(exc).__name__})")
    if problems:
        raise ConfigurationError("refusing to start in production: " + "; ".join(problems))
