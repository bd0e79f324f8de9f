"""Shared fixtures: keys once per session, a migrated database per backend, a real server.

Storage tests take the ``database_url`` fixture, which runs them on SQLite and, when
``GATEWAY_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it), on PostgreSQL too. Each test
starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.all_models import load_all_models
from gateway.config import Settings, normalise_database_url
from gateway.keys import KeyStore
from gateway.storage import migrate
from gateway.storage.database import Database
from gateway.storage.models import Base

load_all_models()

# No per-example deadline: CI shares two cores with servers and browsers, and a slow example
# is not a wrong one. Properties are still checked on every example.
hypothesis_settings.register_profile(
    "gateway", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("gateway")

def pytest_sessionstart(session):
    """Before anything is imported: a run that would cross Amsterdam's midnight waits for it
    (tests/run_dates.py), when ``GATEWAY_TEST_MIDNIGHT_MARGIN_MINUTES`` is set."""
    minutes = os.environ.get("GATEWAY_TEST_MIDNIGHT_MARGIN_MINUTES")
    if not minutes:
        return
    import time
    from datetime import UTC, datetime, timedelta

    from tests.run_dates import seconds_to_wait

    wait = seconds_to_wait(datetime.now(UTC), timedelta(minutes=float(minutes)))
    if wait:
        print(f"\nwaiting {wait:.0f} s for midnight in Europe/Amsterdam (tests/run_dates.py)")
        time.sleep(wait)


POSTGRES_URL = os.environ.get("GATEWAY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def create_postgres_database(prefix: str = "gwtest") -> str:
    """A fresh, empty PostgreSQL database; returns its SQLAlchemy URL."""
    admin_url = make_url(normalise_database_url(POSTGRES_URL))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    target = make_url(url)
    admin_url = target.set(database=make_url(normalise_database_url(POSTGRES_URL)).database)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    engine.dispose()


@contextmanager
def scratch_database(backend: str, folder: Path, prefix: str) -> Iterator[str]:
    """An empty database of its own for a test that makes its own schema: a SQLite file in
    ``folder``, or a fresh PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{prefix}.db'}"
        return
    url = create_postgres_database(prefix)
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory) -> Path:
    """Development keys generated once for the whole session."""
    directory = tmp_path_factory.mktemp("keys")
    KeyStore(directory, allow_generate=True)
    return directory


@pytest.fixture(scope="session")
def _migrated_urls(tmp_path_factory):
    urls = {}
    sqlite_path = tmp_path_factory.mktemp("db") / "gateway.db"
    urls["sqlite"] = f"sqlite:///{sqlite_path}"
    if POSTGRES_URL:
        urls["postgresql"] = create_postgres_database()
    for url in urls.values():
        db = Database(url)
        migrate.upgrade(db.engine)
        db.dispose()
    yield urls
    if "postgresql" in urls:
        drop_postgres_database(urls["postgresql"])


SEEDED_TABLES = {"route_policies"}


def empty_tables(url: str) -> None:
    """Delete every row a test may have made; seeded data (shipped routes) stays."""
    db = Database(url)
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in SEEDED_TABLES:
                continue
            if table.name == "audit_head":
                connection.execute(table.update().values(seq=0, hash="0" * 64))
                continue
            connection.execute(table.delete())
    db.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, _migrated_urls) -> str:
    """A migrated, empty database on each backend in turn."""
    url = _migrated_urls[request.param]
    empty_tables(url)
    return url


@pytest.fixture
def sqlite_url(_migrated_urls) -> str:
    url = _migrated_urls["sqlite"]
    empty_tables(url)
    return url


@pytest.fixture
def settings(sqlite_url, keys_dir) -> Settings:
    return Settings(env="development", database_url=sqlite_url, keys_dir=keys_dir)


@pytest.fixture
def app(settings):
    from gateway import create_app

    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["gateway"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()
