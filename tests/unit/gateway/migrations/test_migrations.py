"""Migrations run forwards and backwards on SQLite and PostgreSQL, and match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from gateway.storage import migrate
from gateway.storage.database import Database
from gateway.storage.models import Base
from tests.conftest import POSTGRES_URL, scratch_database

BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def fresh_url(request, tmp_path):
    with scratch_database(request.param, tmp_path, "gwmigrate") as url:
        yield url


def test_upgrade_downgrade_upgrade(fresh_url):
    db = Database(fresh_url)
    assert migrate.current_revision(db.engine) is None
    migrate.upgrade(db.engine)
    assert migrate.is_current(db.engine)
    tables = set(inspect(db.engine).get_table_names())
    assert {"organisations", "clients", "alembic_version"} <= tables
    migrate.downgrade(db.engine, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(db.engine)
    assert migrate.is_current(db.engine)
    db.dispose()


def test_models_match_the_migrated_schema(fresh_url):
    db = Database(fresh_url)
    migrate.upgrade(db.engine)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    db.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with db.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    db.dispose()
