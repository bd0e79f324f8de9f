"""The one place that opens database connections.

SQLite is the laptop default and runs in WAL mode so that the gateway process and a worker can
read while one writes; PostgreSQL (psycopg 3) is production. A process recovers without restart
after the database went away: a pooled connection that sat idle for longer than
:data:`PING_IDLE_SECONDS` is pinged on checkout, and one to a server that died is discarded and
a new one opened (:func:`_ping_when_idle`); a connection that broke while busy fails its one
statement, is discarded, and the pool opens a new one for the next. With a multi-host URL
(primary and standby, ``target_session_attrs=read-write``, see :func:`multi_host_url`) that new
connection goes to whichever server is the primary now, so a failover needs no restart either
(docs/drills.md, "Failover").
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

_MULTI_HOST = re.compile(r"^(?P<scheme>[^:/]+://)(?P<user>[^@/]*@)?(?P<hosts>[^/?@]*,[^/?@]*)"
                         r"(?P<rest>[/?].*)?$")


def multi_host_url(url: str) -> str:
    """``postgresql://u@h1:p1,h2:p2/db?target_session_attrs=read-write`` (libpq's multi-host
    form, what an operator copies from the PostgreSQL documentation) rewritten as
    ``postgresql://u@/db?host=h1:p1&host=h2:p2&...``, the form SQLAlchemy parses (it rejects
    a comma in the host part) and hands to psycopg as libpq's host and port lists.

    With ``target_session_attrs=read-write`` psycopg tries the hosts in turn and keeps the one
    that accepts writes, so after a failover (the standby promoted) new connections find the
    new primary without a configuration change. Other URLs are returned unchanged.
    """
    match = _MULTI_HOST.match(url)
    if match is None:
        return url
    rest = match["rest"] or "/"
    path, _, query = rest.partition("?")
    hosts = "&".join(f"host={quote(host.strip(), safe=':[]')}"
                     for host in match["hosts"].split(",") if host.strip())
    query = f"{hosts}&{query}" if query else hosts
    return f"{match['scheme']}{match['user'] or ''}{path or '/'}?{query}"


def is_sqlite(url: str) -> bool:
    return make_url(multi_host_url(url)).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


PING_IDLE_SECONDS = 1.0
"""A pooled connection idle for longer than this is pinged before it is handed out.

``pool_pre_ping`` pings on *every* checkout: a round trip to the server before each request's
first statement, one of the largest costs of a protected GET. A connection in steady use has
just proved itself, so only one that waited (when the server may have gone away meanwhile:
a restart, a failover) is pinged (docs/performance.md, "Round trips")."""


def _stamp_checkin(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_when_idle(engine: Engine):
    def ping(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # the pool discards this connection and checks out (or opens) another
            raise exc.DisconnectionError("the pooled connection is dead") from error

    return ping


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``url`` with the settings the gateway relies on.

    ``hide_parameters``: a database error's text then never carries bound values (a sealed
    payload, a pseudonym, a date of birth), so a logged exception cannot leak them.
    """
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 10, "check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(
        multi_host_url(url),
        pool_size=pool_size,
        max_overflow=10,
        connect_args={"connect_timeout": 3},
        hide_parameters=True,
    )
    event.listen(engine, "checkin", _stamp_checkin)
    event.listen(engine, "checkout", _ping_when_idle(engine))
    return engine


class Database:
    """An engine and its session factory, built once per process in ``create_app``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read_sessions = sessionmaker(self._autocommit, expire_on_commit=False)
        self._sqlite_writer = threading.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends without error and rolls back otherwise."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session for a write transaction.

        On SQLite the threads of one process take turns here: SQLite allows one writer, and a
        thread that finds the file locked sleeps in SQLite's busy handler (1, 2, 5 ms ...),
        which under load costs far more than waiting on a Python lock. Processes still
        contend through SQLite itself. PostgreSQL needs no such lock.
        """
        if self._sqlite_writer is None:
            with self.session() as session:
                yield session
            return
        with self._sqlite_writer, self.session() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads that need no transaction: each statement sees committed
        data as of its start, and no BEGIN and ROLLBACK travel to the server around it (two
        of a protected request's round trips). For one statement, or several that need not
        agree with each other."""
        with self._autocommit.connect() as connection:
            yield connection

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session over :meth:`read`'s connections: for ORM reads that need no snapshot.
        Anything it writes is committed at once, statement by statement: never write here."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.close()

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
