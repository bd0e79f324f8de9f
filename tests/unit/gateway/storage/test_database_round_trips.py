"""What :class:`gateway.storage.database.Database` sends to PostgreSQL for a read, and how its
pool recovers from a dead connection now that it pings only idle ones (issue 23).

On PostgreSQL (skipped without ``GATEWAY_TEST_POSTGRES_URL``; ``.ci/run`` sets it): the
statements are counted by the server itself (``pg_stat_statements`` is not assumed: the
connection's own ``xact_start`` and ``backend_xid`` tell whether a transaction is open), and a
dead connection is a real one, ended by ``pg_terminate_backend`` from another session.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, exc, text

from gateway.storage import database as database_module
from gateway.storage.database import Database
from tests.conftest import POSTGRES_URL, scratch_database

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs GATEWAY_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    with scratch_database("postgresql", tmp_path_factory.mktemp("round"), "gwround") as url:
        yield url


@pytest.fixture()
def db(url):
    db = Database(url)
    yield db
    db.dispose()


def _terminate(url: str, pid: int) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()


def test_a_read_runs_outside_a_transaction(db):
    """A read through ``Database.read`` opens no transaction: no BEGIN before the statement
    and no ROLLBACK after it travel to the server."""
    with db.read() as connection:
        in_transaction = connection.execute(text(
            "SELECT xact_start IS NOT NULL AND xact_start < statement_timestamp() "
            "FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        )).scalar_one()
        second = connection.execute(text("SELECT now() = statement_timestamp()")).scalar_one()
    assert in_transaction is False
    assert second is True  # now() is the transaction's start: here, the statement's own


def test_a_session_read_runs_inside_one(db):
    """The ordinary session still begins a transaction (the contrast that makes the test above
    mean something)."""
    with db.session() as session:
        session.execute(text("SELECT 1"))
        now_is_statement = session.execute(
            text("SELECT now() = statement_timestamp()")
        ).scalar_one()
    assert now_is_statement is False


def test_read_session_commits_nothing_it_did_not_write(db):
    with db.read_session() as session:
        assert session.execute(text("SELECT 41 + 1")).scalar_one() == 42


def test_a_dead_idle_connection_is_replaced_without_an_error(db, url, monkeypatch):
    """A pooled connection that sat idle is pinged on checkout: the server ended it, so the
    pool opens another and the caller never sees the failure."""
    monkeypatch.setattr(database_module, "PING_IDLE_SECONDS", 0.0)
    with db.read() as connection:
        first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminate(url, first)
    with db.read() as connection:
        second = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert second != first


def test_a_connection_in_steady_use_is_not_pinged(db, monkeypatch):
    """Within PING_IDLE_SECONDS of its last use a connection is handed out as it is: no ping
    (the round trip this change saves)."""
    monkeypatch.setattr(database_module, "PING_IDLE_SECONDS", 3600.0)
    pings = []
    original = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(1) or original(conn))
    for _ in range(5):
        with db.read() as connection:
            connection.execute(text("SELECT 1"))
    assert pings == []
    monkeypatch.setattr(database_module, "PING_IDLE_SECONDS", 0.0)
    with db.read() as connection:
        connection.execute(text("SELECT 1"))
    assert pings == [1]


def test_a_connection_killed_between_uses_fails_once_then_the_pool_recovers(db, url, monkeypatch):
    """Not pinged (it was used a moment ago), a connection the server ended fails its
    statement as a disconnect; the pool then discards it and every other pooled connection
    of that age, and the next request gets a live one."""
    monkeypatch.setattr(database_module, "PING_IDLE_SECONDS", 3600.0)
    with db.read() as connection:
        first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminate(url, first)
    with pytest.raises(exc.DBAPIError) as raised:
        with db.read() as connection:
            connection.execute(text("SELECT 1"))
    assert raised.value.connection_invalidated
    with db.read() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
