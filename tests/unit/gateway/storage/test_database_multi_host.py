"""The libpq multi-host URL (primary and standby, ``target_session_attrs=read-write``) that an
operator copies from the PostgreSQL documentation must open an engine whose connections go to
every listed host in turn; SQLAlchemy alone rejects the comma in the host part."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from gateway.config import normalise_database_url
from gateway.storage.database import is_sqlite, make_engine, multi_host_url

FAILOVER = (
    "postgresql://gw:s%40cret@db-a.example:5432,db-b.example:5433/gateway"
    "?target_session_attrs=read-write&sslmode=verify-full"
)


def test_multi_host_url_reaches_psycopg_as_host_and_port_lists():
    engine = make_engine(normalise_database_url(FAILOVER))
    try:
        _args, params = engine.dialect.create_connect_args(engine.url)
    finally:
        engine.dispose()
    assert params["host"] == "db-a.example,db-b.example"
    assert params["port"] == "5432,5433"
    assert params["target_session_attrs"] == "read-write"
    assert params["sslmode"] == "verify-full"
    assert params["dbname"] == "gateway"
    assert params["user"] == "gw" and params["password"] == "s@cret"


def test_multi_host_url_without_query():
    url = make_url(multi_host_url("postgresql+psycopg://gw@a:1,b:2/gateway"))
    assert url.query["host"] == ("a:1", "b:2")
    assert url.database == "gateway"


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://gw@db.example:5432/gateway?sslmode=require",
    "sqlite:////var/lib/gateway/gateway.db",
    "sqlite://",
])
def test_single_host_urls_are_unchanged(url):
    assert multi_host_url(url) == url


def test_a_multi_host_url_is_not_sqlite():
    assert is_sqlite(FAILOVER) is False
