"""Hot statements run on the database driver's cursor, compiled once by SQLAlchemy.

Why: on the send path and on every protected request a statement's own work is small (a key
lookup, one row written) and SQLAlchemy's execution machinery around it is not: building an
execution context, dispatching events, reading ``cursor.description`` into result metadata.
Measured (PostgreSQL, one-row lookup by key, thread CPU per statement, one run): 185-245
microseconds through ``Connection.execute`` on a held connection, 123 here, 98-117 through
psycopg alone (docs/performance.md, "The send path at the physical limit, part 3"). A send
ran thirteen statements then; on PostgreSQL it runs four now (part 4: its reads joined in
:mod:`gateway.exchange.lookups`, its writes by :func:`joined`).

What stays SQLAlchemy's: the SQL text and its parameter style (the statement is compiled for
the connection's dialect, once), the types' bind and result processors (a datetime on SQLite,
JSON), constant column defaults, the connection, its pool and its transaction (a statement
here joins the session's transaction; the session commits or rolls it back), and what an
error becomes (the driver's exception goes through the connection's own handler: the same
``IntegrityError`` or ``OperationalError``, parameters hidden, a dead connection invalidated).

What it does not do, and then the statement simply runs through SQLAlchemy (the same SQL, so
nothing but the cost differs): computed column defaults (a callable, a sequence), expanding
``IN`` parameters, numeric result columns (their processor depends on the driver's type
code), and any engine with statement or cursor listeners (OpenTelemetry's database spans, a
test counting statements), so those listeners still see every statement.

On psycopg a statement goes to a ``RawCursor`` in PostgreSQL's own placeholders (``$1``),
converted once per statement (:func:`native_form`): psycopg would otherwise convert the
``%(name)s`` form on every execution, and it caches that only for statements of up to 4,096
characters and 50 parameters, which a send's joined writes exceed (thread CPU of a send's
service call, interleaved in one process: 1,366 vs 1,527 and 2,161 vs 2,602 microseconds).

Tried beside it and left out: psycopg's pipeline mode for a send's writes cost more CPU than
the round trips it saved (docs/performance.md, same section).

**Joined writes** (:func:`joined`, PostgreSQL only): inside the block, a write that returns
nothing is not sent at once but queued, and the queue goes to the server as *one* statement,
``WITH w0 AS (<write>), w1 AS (<write>) <write>``, when the block ends or just before anything
else is executed in the session (a direct read, a statement SQLAlchemy runs, an ORM read or
flush), so every read sees every write before it. The writes are the same statements with the
same parameters, in the same transaction; PostgreSQL checks foreign keys at the end of the
statement, and a unique violation raises the same ``IntegrityError``, only at the join (the
callers that catch it wrap the whole transaction). A send's store transaction sends two
statements instead of eight. SQLite (in-process, no round trips) runs each write at once.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import RawCursor
from sqlalchemy import Numeric, event, exc
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import Insert

_UNSUPPORTED = object()


class Compiled:
    """One statement compiled for one dialect (and, for an insert, one set of columns)."""

    __slots__ = (
        "sql", "names", "positional", "binds", "results", "row", "returns_rows", "joinable",
        "target", "native",
    )

    def __init__(self, statement: ClauseElement, dialect, column_keys: Iterable[str] | None):
        compiled = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys is not None else None
        )
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise _Unsupported
        # a column left out of an insert takes its default; a constant one is a parameter
        # like any other, anything computed (a callable, a sequence) needs SQLAlchemy
        defaults = {}
        for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
            default = column.default if column in compiled.insert_prefetch else column.onupdate
            if default is None or not default.is_scalar:
                raise _Unsupported
            defaults[column.key] = default.arg
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        self.names: tuple[str, ...] = tuple(
            compiled.positiontup if self.positional else compiled.binds
        )
        processors = compiled._bind_processors
        self.binds: tuple[tuple[str, Any, Callable | None], ...] = tuple(
            (
                name,
                defaults[name] if name in defaults
                else _UNSUPPORTED if compiled.binds[name].required
                else compiled.binds[name].value,
                processors.get(name),
            )
            for name in self.names
        )
        columns = compiled._result_columns or []
        for column in columns:
            if isinstance(column.type, Numeric):
                raise _Unsupported
        self.results: tuple[Callable | None, ...] | None = (
            tuple(column.type._cached_result_processor(dialect, None) for column in columns)
            if columns
            else None
        )
        self.row = (
            namedtuple("Row", [column.keyname for column in columns], rename=True)
            if columns
            else None
        )
        words = self.sql.lstrip().upper()
        self.returns_rows: bool = bool(columns) or words.startswith(("SELECT", "WITH")) or (
            " RETURNING " in words
        )
        """From the statement, not from ``cursor.description``: a psycopg cursor builds its
        column objects on every read of it."""
        written = _WRITE.match(self.sql)
        self.target: tuple[str, str] | None = (
            (written.group(1).split()[0].upper(), written.group(2).strip('"').lower())
            if written else None
        )
        """(``INSERT``, ``UPDATE`` or ``DELETE``; the table) of a write."""
        self.joinable: bool = (
            written is not None and not self.returns_rows and not self.positional
            and "%%" not in self.sql
            and all(_NAME.fullmatch(name) and f"%({name})s" in self.sql for name in self.names)
        )
        """A write that :func:`joined` may queue: named parameters, each written plainly in
        the SQL so that it can be renamed, and no literal percent sign (escaped ``%%``) that a
        rename could misread."""
        self.native = (
            native_form(self.sql)
            if dialect.driver == "psycopg" and not self.positional
            and all(f"%({name})s" in self.sql for name in self.names)
            else None
        )
        """The SQL in PostgreSQL's own placeholders and the parameter names in their order
        (:func:`native_form`), for psycopg."""

    def parameters(self, values: dict) -> tuple | dict:
        out = []
        for name, default, processor in self.binds:
            value = values.get(name, default)
            if value is _UNSUPPORTED:
                raise KeyError(f"no value for the bound parameter {name!r}")
            # None too, as SQLAlchemy does: a JSON column stores None as JSON null
            out.append(value if processor is None else processor(value))
        return tuple(out) if self.positional else dict(zip(self.names, out, strict=True))


_NAME = re.compile(r"\w+")
_WRITE = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\"?[\w.]+\"?)", re.IGNORECASE)


class _Unsupported(Exception):
    """The statement needs SQLAlchemy's execution context; it runs through it."""


class Result:
    """The rows (plain tuples with named fields) or the row count of one statement."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list, rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def first(self):
        return self._rows[0] if self._rows else None

    def one(self):
        """The one row; SQLAlchemy's own exceptions otherwise, as ``Result.one`` raises."""
        if not self._rows:
            raise exc.NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def all(self) -> list:
        return list(self._rows)

    def scalar(self):
        return self._rows[0][0] if self._rows else None


_cache: dict[tuple, tuple[ClauseElement, Compiled | None]] = {}
"""(statement id, dialect, insert columns) -> (the statement, its compiled form or None).
The entry holds the statement itself, so the id it is keyed by can never be reused."""


def _compiled(statement: ClauseElement, dialect, values: dict) -> Compiled | None:
    keys = frozenset(values) if isinstance(statement, Insert) else None
    key = (id(statement), dialect.name, dialect.driver, keys)
    found = _cache.get(key)
    if found is not None:
        return found[1]
    try:
        built: Compiled | None = Compiled(statement, dialect, sorted(keys) if keys else None)
    except _Unsupported:
        built = None
    # two threads compiling the same statement at once store equal entries: no lock needed
    _cache[key] = (statement, built)
    return built


def execute(target: Session | Connection, statement: ClauseElement, values: dict | None = None):
    """Run ``statement`` (a module-level constant: compiled once per dialect) with ``values``
    on ``target``'s connection and transaction; a :class:`Result`, or SQLAlchemy's result
    where the statement or the connection needs SQLAlchemy (module docstring)."""
    values = values or {}
    session = target if isinstance(target, Session) else None
    connection = session.connection() if session is not None else target
    queue = session.info.get(_QUEUE) if session is not None else None
    compiled = None if _listened(connection) else _compiled(statement, connection.dialect, values)
    if queue is not None:
        if compiled is not None and compiled.joinable:
            if not _joins_with(queue, compiled):
                _send_queue(connection, queue)
            queue.append((compiled, compiled.parameters(values)))
            return _QUEUED
        _send_queue(connection, queue)
    if compiled is None:
        return connection.execute(statement, values)
    return run(connection, compiled, compiled.parameters(values))


_QUEUE = "gateway.storage.direct.queue"
"""The key of a :func:`joined` block's queue in ``Session.info``."""
_QUEUED = Result([], -1)
"""What a queued write returns: no rows, and no count yet (-1, as DB-API says for unknown)."""


@contextmanager
def joined(session: Session) -> Iterator[None]:
    """Join the session's writes in this block into one statement (module docstring).

    Only writes whose result the caller does not read belong here: a queued write returns no
    row count. Leaving the block with an error drops the queue (the transaction rolls back).
    Statements run through this module or the session see the queued writes; one run on the
    session's connection itself (``session.connection().execute``) would not, so code in the
    block does not do that.
    """
    if session.get_bind().dialect.name != "postgresql" or _QUEUE in session.info:
        yield
        return
    queue: list = []
    session.info[_QUEUE] = queue
    try:
        yield
        _send_queue(session.connection(), queue)
    finally:
        del session.info[_QUEUE]


def _joins_with(queue: list, write: Compiled) -> bool:
    """Whether ``write`` may join the queued writes: the parts of one statement all see the
    database as it was before it (PostgreSQL's data-modifying ``WITH``), so a write may not
    join a queue that wrote its table, unless both are inserts (which never read the table;
    a duplicate between them still raises)."""
    verb, table = write.target
    return not any(
        queued.target[1] == table and not (verb == queued.target[0] == "INSERT")
        for queued, _ in queue
    )


def _send_queue(connection: Connection, queue: list) -> None:
    """Send the queued writes, one statement for all of them, and empty the queue."""
    if not queue:
        return
    writes = queue[:]
    queue.clear()
    if len(writes) == 1:
        compiled, parameters = writes[0]
        run(connection, compiled, parameters)
        return
    key = tuple(id(compiled) for compiled, _ in writes)
    statement = _joins.get(key)
    if statement is None:
        statement = _joins[key] = _Joined([compiled for compiled, _ in writes])
    parameters = {
        f"w{index}_{name}": value
        for index, (_, values) in enumerate(writes)
        for name, value in values.items()
    }
    run(connection, statement, parameters)


_PARAMETER = re.compile(r"%\((\w+)\)s")
_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")


def native_form(sql: str) -> tuple[str, tuple[str, ...]] | None:
    """``sql`` (``%(name)s`` placeholders) in PostgreSQL's own (``$1``), with the names in
    the order of their numbers; None for SQL that already holds a ``$`` (a dollar-quoted
    string, a literal that looks like a placeholder), which psycopg converts itself.

    Why: psycopg makes this conversion on every execution, and caches it only for statements
    up to 4,096 characters and 50 parameters; a send's joined writes are both longer and
    have more, so psycopg parsed them anew for every send (its regular-expression split was
    the largest single item of a send's CPU profile). A statement converted once here is
    handed to a ``RawCursor``, which converts nothing."""
    if "$" in sql:
        return None
    order: dict[str, int] = {}

    def number(found: re.Match) -> str:
        name = found.group(1)
        if name is None:  # an escaped percent sign
            return "%"
        return f"${order.setdefault(name, len(order) + 1)}"

    return _PYFORMAT.sub(number, sql), tuple(order)


class _Joined:
    """Writes as one PostgreSQL statement: all but the last as data-modifying ``WITH``
    queries, each one's parameters prefixed with its place (``w0_``, ``w1_`` ...)."""

    __slots__ = ("sql", "writes", "native")
    returns_rows = False
    row = results = None

    def __init__(self, writes: list[Compiled]) -> None:
        self.writes = writes  # holds them: their ids key the cache
        parts = [
            _PARAMETER.sub(lambda found, i=index: f"%(w{i}_{found.group(1)})s", write.sql)
            for index, write in enumerate(writes)
        ]
        queries = ", ".join(f"w{index} AS ({part})" for index, part in enumerate(parts[:-1]))
        self.sql = f"WITH {queries} {parts[-1]}"
        self.native = (
            native_form(self.sql) if all(write.native is not None for write in writes) else None
        )


_joins: dict[tuple[int, ...], _Joined] = {}
"""The joined statement of each sequence of writes (a send has a handful of sequences)."""


def _before_orm(state) -> None:
    """An ORM read or write in a :func:`joined` block sees the queued writes first."""
    queue = state.session.info.get(_QUEUE)
    if queue:
        _send_queue(state.session.connection(), queue)


def _before_flush(session: Session, context, instances) -> None:
    queue = session.info.get(_QUEUE)
    if queue:
        _send_queue(session.connection(), queue)


event.listen(Session, "do_orm_execute", _before_orm)
event.listen(Session, "before_flush", _before_flush)


def _listened(connection: Connection) -> bool:
    """Whether anyone listens for statements on the connection's engine (the gateway's
    tracing and the tests listen there; an engine made with an isolation level option shares
    its parent's listeners). ``Connection._has_events`` does not say: it is False with an
    engine's cursor listeners. The engine's own dispatch is read: a connection's joined one
    costs six times as much, on every statement."""
    dispatch = connection.engine.dispatch
    return bool(
        dispatch.before_execute or dispatch.after_execute
        or dispatch.before_cursor_execute or dispatch.after_cursor_execute
    )


def run(connection: Connection, compiled: Compiled, parameters) -> Result:
    cursor = None
    try:
        driver = connection.connection.driver_connection
        native = compiled.native
        if native is not None:
            cursor = RawCursor(driver)
            cursor.execute(native[0], [parameters[name] for name in native[1]])
        else:
            cursor = driver.cursor()
            cursor.execute(compiled.sql, parameters)
        if not compiled.returns_rows:
            return Result([], cursor.rowcount)
        fetched = cursor.fetchall()
        if compiled.row is None:  # a text statement: its columns as the server names them
            compiled.row = namedtuple(
                "Row", [column[0] for column in cursor.description], rename=True
            )
    except Exception as error:  # the driver's: translated as SQLAlchemy would
        connection._handle_dbapi_exception(error, compiled.sql, parameters, cursor, None)
        raise  # pragma: no cover - the handler always raises
    finally:
        if cursor is not None:
            cursor.close()
    return Result(_rows(compiled, fetched), len(fetched))


def _rows(compiled: Compiled, fetched: list) -> list:
    make = compiled.row
    processors = compiled.results
    if not processors or not any(processors):
        return [make(*row) for row in fetched]
    return [
        make(*(value if process is None else process(value)
               for process, value in zip(processors, row, strict=True)))
        for row in fetched
    ]
