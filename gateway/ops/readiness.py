"""What "ready" means: the database answers, its schema is current, and the keys are loaded."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from ..keys import KeyStore
from ..storage import migrate
from ..storage.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    database: bool
    schema_current: bool
    keys_loaded: bool

    @property
    def ready(self) -> bool:
        return self.database and self.schema_current and self.keys_loaded

    def reasons(self) -> list[str]:
        reasons = []
        if not self.database:
            reasons.append("the database is unreachable")
        elif not self.schema_current:
            reasons.append("the database schema is not current (run 'gateway db upgrade')")
        if not self.keys_loaded:
            reasons.append("the keys are not loaded")
        return reasons


def check(db: Database, keys: KeyStore | None) -> Readiness:
    database = schema_current = False
    try:
        db.ping()
        database = True
        schema_current = migrate.is_current(db.engine)
    except SQLAlchemyError as exc:
        log.warning("readiness: database check failed: %s", type(exc).__name__)
    return Readiness(database, schema_current, keys is not None and keys.loaded)
