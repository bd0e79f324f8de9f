"""Statements run on the driver's cursor (:mod:`gateway.storage.direct`, issue 23) against
real SQLite and PostgreSQL (the latter with ``GATEWAY_TEST_POSTGRES_URL``): the same rows and
types as SQLAlchemy's own execution, the session's transaction, SQLAlchemy's exceptions with
the parameters hidden, and SQLAlchemy's own path wherever the direct one would differ."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    bindparam,
    event,
    exc,
    insert,
    select,
    text,
    update,
)

from gateway.audit.log import AuditLog
from gateway.exchange.service import ExchangeService
from gateway.keys import KeyStore
from gateway.logboek.records import LogboekWriter
from gateway.monitoring.facts import FactRecorder
from gateway.sealing import MESSAGES, Sealer
from gateway.storage import direct
from gateway.storage.database import Database
from tests.conftest import POSTGRES_URL, scratch_database

metadata = MetaData()
things = Table(
    "direct_things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(40), unique=True),
    Column("at", DateTime(timezone=True)),
    Column("tags", JSON, nullable=True),
    Column("active", Boolean),
    Column("big", BigInteger),
    Column("note", Text, nullable=True),
)
defaulted = Table(
    "direct_defaulted",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("token", String(40), default=lambda: uuid.uuid4().hex),
)
priced = Table(
    "direct_priced",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("price", Numeric(10, 2)),
)

INSERT = insert(things)
BY_NAME = select(things).where(things.c.name == bindparam("name"))
ACTIVE_NAMES = select(things.c.name).where(things.c.active.is_(True)).order_by(things.c.id)
RENAME = update(things).where(things.c.id == bindparam("key")).values(name=bindparam("new"))
BUMP = text("UPDATE direct_things SET big = big + 1 WHERE id = :id RETURNING big, name")
INSERT_DEFAULTED = insert(defaulted)
PRICES = select(priced.c.price)

AT = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)
ROW = {"id": 1, "name": "een", "at": AT, "tags": ["a", {"b": 2}], "active": True,
       "big": 2**40, "note": None}

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="module", params=BACKENDS)
def url(request, tmp_path_factory):
    with scratch_database(request.param, tmp_path_factory.mktemp("direct"), "gwdirect") as url:
        yield url


@pytest.fixture()
def ran(monkeypatch) -> list[str]:
    """The SQL of every statement that took the direct path (lower case): the tests that
    compare it with SQLAlchemy's own execution also show it was the direct path they saw."""
    seen: list[str] = []
    real_run = direct.run

    def spy(connection, compiled, parameters):
        seen.append(compiled.sql.lower())
        return real_run(connection, compiled, parameters)

    monkeypatch.setattr(direct, "run", spy)
    return seen


def _took(ran: list[str], verb: str, table: str = "direct_things") -> bool:
    """Whether a statement of ``verb`` on ``table`` ran, alone or in joined writes."""
    if verb == "select":
        return any(sql.startswith("select") and table in sql for sql in ran)
    wanted = f"insert into {table} " if verb == "insert" else f"{verb} {table} "
    return any(sql.startswith(wanted) or (sql.startswith("with w0 as (") and wanted in sql)
               for sql in ran)


@pytest.fixture()
def db(url):
    db = Database(url)
    metadata.drop_all(db.engine)
    metadata.create_all(db.engine)
    yield db
    db.dispose()


def _sqlalchemy_row(db, statement, values):
    with db.read() as connection:
        return connection.execute(statement, values).first()


def test_a_row_reads_back_as_sqlalchemy_reads_it(db, ran):
    with db.write_session() as session:
        assert direct.execute(session, INSERT, ROW).rowcount == 1
    with db.read() as connection:
        row = direct.execute(connection, BY_NAME, {"name": "een"}).first()
    assert _took(ran, "insert") and _took(ran, "select")
    expected = _sqlalchemy_row(db, BY_NAME, {"name": "een"})
    assert tuple(row) == tuple(expected)
    # a datetime on SQLite too, not text (SQLite keeps no zone: SQLAlchemy reads it naive)
    assert row.at.replace(tzinfo=None) == AT.replace(tzinfo=None)
    assert row.tags == ["a", {"b": 2}] and row.active is True and row.big == 2**40
    assert row.note is None


def test_a_missing_row_is_none_and_a_select_lists_its_rows(db, ran):
    with db.write_session() as session:
        for index, active in ((1, True), (2, False), (3, True)):
            direct.execute(session, INSERT, {**ROW, "id": index, "name": f"n{index}",
                                             "active": active})
    with db.read() as connection:
        assert direct.execute(connection, BY_NAME, {"name": "geen"}).first() is None
        names = direct.execute(connection, ACTIVE_NAMES).all()
    assert [name for (name,) in names] == ["n1", "n3"]
    assert len([sql for sql in ran if sql.startswith("select")]) == 2


def test_an_update_counts_its_rows_and_a_text_statement_returns_its_own(db, ran):
    with db.write_session() as session:
        direct.execute(session, INSERT, ROW)
    with db.write_session() as session:
        assert direct.execute(session, RENAME, {"key": 1, "new": "twee"}).rowcount == 1
        assert direct.execute(session, RENAME, {"key": 9, "new": "drie"}).rowcount == 0
        bumped = direct.execute(session, BUMP, {"id": 1}).one()
        assert (bumped.big, bumped.name) == (2**40 + 1, "twee")
        assert direct.execute(session, BUMP, {"id": 9}).first() is None
        with pytest.raises(exc.NoResultFound):  # as SQLAlchemy's Result.one raises
            direct.execute(session, BUMP, {"id": 9}).one()
    assert _took(ran, "update") and sum(sql.startswith("update") for sql in ran) == 5


def test_a_statement_joins_the_sessions_transaction(db, ran):
    """Rolled back with the session: nothing of it is stored."""
    with pytest.raises(RuntimeError), db.write_session() as session:
        direct.execute(session, INSERT, ROW)
        raise RuntimeError("the request failed after the insert")
    assert _took(ran, "insert")
    with db.read() as connection:
        assert direct.execute(connection, BY_NAME, {"name": "een"}).first() is None


def test_a_duplicate_is_sqlalchemys_integrity_error_without_the_values(db, ran):
    with db.write_session() as session:
        direct.execute(session, INSERT, ROW)
    secret = "999999990"
    with pytest.raises(exc.IntegrityError) as raised, db.write_session() as session:
        direct.execute(session, INSERT, {**ROW, "id": 2, "note": secret})
    assert secret not in str(raised.value)
    assert sum(sql.startswith("insert") for sql in ran) == 2  # the refused one went direct
    # the connection is usable afterwards
    with db.read() as connection:
        assert direct.execute(connection, BY_NAME, {"name": "een"}).one().id == 1


def _is_postgres(db) -> bool:
    return db.engine.dialect.name == "postgresql"


def _things(db) -> list[tuple]:
    with db.read() as connection:
        return [tuple(row) for row in connection.execute(select(things).order_by(things.c.id))]


def test_joined_writes_reach_postgresql_as_one_statement(db, ran):
    """Inserts and an update in a joined block: on PostgreSQL one statement, on SQLite each
    at once; the same rows either way, as SQLAlchemy reads them."""
    with db.write_session() as session, direct.joined(session):
        direct.execute(session, INSERT, ROW)
        direct.execute(session, INSERT, {**ROW, "id": 2, "name": "twee", "tags": None})
        direct.execute(session, INSERT_DEFAULTED, {"id": 1, "token": "t"})
        if _is_postgres(db):
            assert ran == []  # nothing sent yet: the block has not ended
    if _is_postgres(db):
        [joined] = ran
        assert joined.startswith("with w0 as (insert into direct_things")
        assert "w1 as (insert into direct_things" in joined
        assert "insert into direct_defaulted" in joined
    else:
        assert len(ran) == 3
    stored = _things(db)
    assert [row[:2] for row in stored] == [(1, "een"), (2, "twee")]
    assert stored[0] == tuple(_sqlalchemy_row(db, BY_NAME, {"name": "een"}))
    assert stored[0][3] == ["a", {"b": 2}] and stored[0][5] == 2**40 and stored[1][3] is None
    with db.read() as connection:
        assert connection.execute(select(defaulted.c.token)).scalar() == "t"


def test_a_write_to_a_table_the_queue_wrote_is_not_joined_with_it(db, ran):
    """All parts of one statement see the database as it was before it: an update of a row
    inserted in the same statement would find nothing. So the queue is sent first."""
    with db.write_session() as session, direct.joined(session):
        direct.execute(session, INSERT, ROW)
        direct.execute(session, INSERT, {**ROW, "id": 2, "name": "twee"})
        direct.execute(session, RENAME, {"key": 2, "new": "drie"})
        direct.execute(session, RENAME, {"key": 1, "new": "vier"})
    assert [row[1] for row in _things(db)] == ["vier", "drie"]
    if _is_postgres(db):
        assert len(ran) == 3  # the two inserts joined; each update after the write before it
        assert ran[0].startswith("with w0 as (insert into direct_things")


def test_a_read_in_a_joined_block_sees_every_write_before_it(db, ran):
    """A direct read, a statement SQLAlchemy runs for the session, and an ORM read each send
    the queue first."""
    with db.write_session() as session, direct.joined(session):
        direct.execute(session, INSERT, ROW)
        assert direct.execute(session, BY_NAME, {"name": "een"}).one().id == 1
        direct.execute(session, INSERT, {**ROW, "id": 2, "name": "twee"})
        assert session.execute(select(things.c.id).where(things.c.id == 2)).scalar() == 2
        direct.execute(session, RENAME, {"key": 2, "new": "drie"})
        assert session.scalar(select(things.c.name).where(things.c.id == 2)) == "drie"
    assert [row[1] for row in _things(db)] == ["een", "drie"]


@pytest.fixture()
def postgres_db(tmp_path):
    with scratch_database("postgresql", tmp_path, "gwnative") as url:
        db = Database(url)
        metadata.create_all(db.engine)
        yield db
        db.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs GATEWAY_TEST_POSTGRES_URL")
def test_joined_writes_reach_psycopg_in_postgresqls_own_placeholders(postgres_db, monkeypatch):
    """psycopg turns ``%(name)s`` into ``$1`` on every execution of a statement longer than
    4,096 characters or with more than 50 parameters (it caches only smaller ones); a send's
    joined writes are both. Converted once here, psycopg parses nothing."""
    import psycopg._queries

    db = postgres_db

    parsed: list[bytes] = []
    real = psycopg._queries._query2pg_nocache

    def spy(query, encoding):
        parsed.append(query)
        return real(query, encoding)

    monkeypatch.setattr(psycopg._queries, "_query2pg_nocache", spy)
    with db.write_session() as session, direct.joined(session):
        for key in range(1, 9):  # 8 x 7 = 56 parameters
            direct.execute(session, INSERT, {**ROW, "id": key, "name": f"n{key}"})
    assert parsed == []
    stored = _things(db)
    assert [row[:2] for row in stored] == [(key, f"n{key}") for key in range(1, 9)]
    assert stored[7] == tuple(_sqlalchemy_row(db, BY_NAME, {"name": "n8"}))


def test_a_statement_in_native_placeholders_keeps_its_meaning():
    """Each name one number however often it is used, an escaped percent sign a percent
    sign, and SQL that already holds a dollar sign left to psycopg."""
    sql = "SELECT %(a)s, %(b)s, %(a)s WHERE note LIKE 'x%%'"
    assert direct.native_form(sql) == ("SELECT $1, $2, $1 WHERE note LIKE 'x%'", ("a", "b"))
    assert direct.native_form("SELECT '$1', %(a)s") is None


def test_a_duplicate_in_joined_writes_is_an_integrity_error_and_nothing_is_kept(db, ran):
    secret = "999999990"
    with pytest.raises(exc.IntegrityError) as raised:
        with db.write_session() as session, direct.joined(session):
            direct.execute(session, INSERT, ROW)
            direct.execute(session, INSERT, {**ROW, "id": 2, "note": secret})  # name taken
    assert secret not in str(raised.value)
    assert _things(db) == []  # the first insert was rolled back with it
    with db.write_session() as session:  # the connection is usable afterwards
        direct.execute(session, INSERT, ROW)
    assert len(_things(db)) == 1


def test_a_joined_block_left_with_an_error_sends_nothing(db, ran):
    with pytest.raises(RuntimeError), db.write_session() as session, direct.joined(session):
        direct.execute(session, INSERT, ROW)
        raise RuntimeError("the request failed after the insert")
    if _is_postgres(db):
        assert ran == []
    assert _things(db) == []


def test_a_missing_parameter_is_refused_before_anything_is_sent(db):
    with pytest.raises(KeyError), db.read() as connection:
        direct.execute(connection, BY_NAME, {})


def test_a_listened_connection_runs_through_sqlalchemy(db):
    """OpenTelemetry's database spans and a test counting statements listen for cursor
    executions: with a listener every statement goes through SQLAlchemy and is seen."""
    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with db.write_session() as session:
            direct.execute(session, INSERT, ROW)
        with db.read() as connection:
            row = direct.execute(connection, BY_NAME, {"name": "een"}).first()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert row.name == "een"
    assert any(s.startswith("INSERT INTO direct_things") for s in seen)
    assert any(s.startswith("SELECT") and "direct_things" in s for s in seen)


def test_what_needs_sqlalchemys_context_runs_through_it(db, monkeypatch):
    """A Python-side column default and a numeric result column are SQLAlchemy's to handle."""
    ran_directly = []
    real_run = direct.run
    monkeypatch.setattr(direct, "run", lambda *a: ran_directly.append(a[1].sql) or real_run(*a))
    with db.write_session() as session:
        direct.execute(session, INSERT_DEFAULTED, {"id": 1})
        session.execute(insert(priced), {"id": 1, "price": "12.50"})
    with db.read() as connection:
        token = connection.execute(select(defaulted.c.token)).scalar_one()
        price = direct.execute(connection, PRICES).scalar()
    assert len(token) == 32  # the default was applied
    assert str(price) == "12.50"
    assert ran_directly == []


def test_every_hot_statement_of_a_send_runs_on_the_driver(database_url, keys_dir, ran):
    """A send's statements take the direct path: the check that the optimisation is in
    effect, on both databases (the table names are the models')."""
    from tests.unit.gateway.exchange import test_exchange_pipeline as pipeline_tests

    fixture = getattr(pipeline_tests.world, "__wrapped__", pipeline_tests.world)
    worlds = fixture(database_url, keys_dir)
    world = next(worlds)
    keys = KeyStore(keys_dir, allow_generate=False)
    # as gateway.composition builds it: the Logboek's record and the monitoring fact too
    world["service"] = lambda checker=None: ExchangeService(
        world["db"], world["p"], world["consent"], Sealer(keys.keyring, MESSAGES),
        AuditLog(logboek=LogboekWriter(keys, "https://gateway.test")),
        lambda: pipeline_tests.NOW, observer=FactRecorder(),
    )
    try:
        answer = pipeline_tests.send(
            world, pipeline_tests.ex.SCHOOL, "absence_report", pipeline_tests.ex.LEERPLICHT,
            pipeline_tests.ex.absence_report(pipeline_tests.TODAY),
        )
    finally:
        worlds.close()
        world["db"].dispose()
    assert answer["status"] == "accepted"
    wanted = {
        "select": ("idempotency_keys", "organisations", "route_policies",
                   "exchange_transactions"),
        "update": ("audit_head",),
        "insert": ("audit_events", "exchange_transactions", "messages", "logboek_records",
                   "monitoring_facts", "idempotency_keys"),
    }
    for verb, tables in wanted.items():
        for table in tables:
            assert _took(ran, verb, table), (verb, table, ran)
    if database_url.startswith("postgresql"):
        # the four reads as one, the audit head's seq, then every write as one statement
        assert len(ran) == 3, ran
        assert ran[2].startswith("with w0 as (")


def test_the_token_read_of_every_protected_request_runs_on_the_driver(database_url, ran):
    """The token row (with its client and organisation) is read on every protected request,
    never cached (API.md section 2): an unknown token is None, through the direct path."""
    from gateway.oauth.store import OAuthStore

    db = Database(database_url)
    try:
        assert OAuthStore(db).token("no-such-jti") is None
    finally:
        db.dispose()
    assert _took(ran, "select", "oauth_access_tokens")


PID = text("SELECT pg_backend_pid()")


@pytest.mark.skipif(not POSTGRES_URL, reason="needs GATEWAY_TEST_POSTGRES_URL")
def test_a_connection_killed_under_a_direct_statement_is_invalidated(
    monkeypatch, tmp_path, ran
):
    """The driver's disconnect goes through SQLAlchemy's handler: the statement fails as a
    disconnect, the pool discards the connection, and the next request gets a live one."""
    from gateway.storage import database as database_module

    monkeypatch.setattr(database_module, "PING_IDLE_SECONDS", 3600.0)
    with scratch_database("postgresql", tmp_path, "gwdirectkill") as url:
        _kill_under_a_direct_statement(url, ran)


def _kill_under_a_direct_statement(url: str, ran: list[str]) -> None:
    db = Database(url)
    try:
        with db.read() as connection:
            first = direct.execute(connection, PID).scalar()
        admin = Database(url)
        with admin.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            connection.commit()
        admin.dispose()
        with pytest.raises(exc.DBAPIError) as raised, db.read() as connection:
            direct.execute(connection, PID)
        assert raised.value.connection_invalidated
        with db.read() as connection:
            assert direct.execute(connection, PID).scalar() != first
    finally:
        db.dispose()
    assert len(ran) == 3  # all three on the driver, the failing one included


def test_none_in_a_json_column_is_stored_as_sqlalchemy_stores_it(db, ran):
    """SQLAlchemy's JSON type stores Python None as JSON ``null`` (not SQL NULL); the direct
    path runs every value through the type's processor, None included, and so stores the
    same."""
    with db.write_session() as session:
        direct.execute(session, INSERT, {**ROW, "tags": None})
        session.execute(INSERT, {**ROW, "id": 2, "name": "twee", "tags": None})
    with db.read() as connection:
        stored = connection.execute(
            text("SELECT tags IS NULL FROM direct_things ORDER BY id")
        ).scalars().all()
    assert stored[0] == stored[1]
    assert _took(ran, "insert")
