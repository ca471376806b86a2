"""PostgreSQL's hot path: a turn's own statements run on psycopg's connection itself.

Every message's turn runs the same few statements: lock the conversation, peek (a
retried message, an open ticket), write the messages. A bot process is CPU-bound, and
through SQLAlchemy's execution each of them cost about 0.4 ms of CPU on the development
machine, against 0.15 ms run on the psycopg connection underneath (``benchmarks/
statements.py``). So on PostgreSQL these few run there, inside the turn's transaction
on its pooled connection: SQLAlchemy still builds and compiles them, once; psycopg
prepares them on each connection after a few uses.

A turn takes two round trips (psycopg's pipeline mode): the BEGIN, the lock and the
peek; then the writes and the COMMIT. The lock and the peek are two statements, so the
peek still reads what was committed while the turn waited for the lock, which one
statement with both would not (its snapshot is taken before it waits).

A turn takes its connection from SQLAlchemy's pool itself (:class:`Checkout`), without
SQLAlchemy's ``Connection`` and transaction around it: a transaction with the lock cost
0.61 ms of CPU through ``engine.begin()`` and 0.45 ms on the pooled connection itself, on
the development machine (``benchmarks/statements.py``).
The pool stays SQLAlchemy's: its size, its timeout, its reset of a returned connection
and its renewal after the server restarted. A turn whose step needs SQLAlchemy (the
ORM of orders, tickets, ratings) gets a ``Connection`` built over the same connection,
in the same transaction, on first use.

Errors are raised as SQLAlchemy's (:class:`sqlalchemy.exc.DBAPIError` and its kinds,
as SQLAlchemy would raise them), so callers see one kind of error whichever way a
statement went; a connection found lost is handed to SQLAlchemy's own handling, which
invalidates it and renews the rest of the pool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON, Connection, PoolProxiedConnection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement as SQL text for psycopg, with what its parameters need."""

    sql: str
    #: Values SQLAlchemy bound itself (literals): sent unless the caller gives the name.
    defaults: Mapping[str, Any]
    #: Parameters of JSON columns: sent wrapped in :class:`psycopg.types.json.Json`, as
    #: SQLAlchemy sends them (``None`` included, which is stored as JSON ``null``).
    json: frozenset[str]
    #: ``sql`` as sent (the database's encoding is UTF-8): encoded once, and one object,
    #: which :meth:`Checkout.cursor` relies on.
    query: bytes

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters to send for ``values`` (by bind name)."""
        params = {**self.defaults, **values}
        for name in self.json:
            if name in params:
                params[name] = Json(params[name])
        return params


def compile_for(statement: ClauseElement, dialect: Dialect) -> Compiled:
    """Compile ``statement`` for psycopg (named ``%(name)s`` parameters).

    Only what the statement says is sent: the columns' Python-side defaults (``default=``
    in the models) are not applied, so give every value.
    """
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    defaults = {name: value for name, value in compiled.params.items() if value is not None}
    json = frozenset(
        name for bind, name in compiled.bind_names.items() if isinstance(bind.type, JSON)
    )
    sql = str(compiled)
    return Compiled(sql, defaults, json, sql.encode())


class Checkout:
    """A connection of SQLAlchemy's pool, taken for one transaction and used through psycopg.

    The transaction's BEGIN is the caller's first statement, sent with the next ones
    (:func:`first_rows` with ``begin``): psycopg's own BEGIN would take a round trip of its
    own, so the connection is in psycopg's autocommit mode while taken, and psycopg sends
    none. :meth:`release` ends the transaction and gives the connection back to the pool
    out of autocommit mode, or drops it: the pool's other users rely on psycopg's BEGIN.
    """

    def __init__(self, engine: AsyncEngine, pooled: PoolProxiedConnection) -> None:
        self.engine = engine
        self._pooled = pooled
        driver: psycopg.AsyncConnection[Any] = pooled.driver_connection  # type: ignore[assignment]
        self.driver = driver
        self._connection: AsyncConnection | None = None
        # the connection's cursors, one per query, kept as long as the connection lives
        self._cursors: dict[bytes, psycopg.AsyncCursor[Any]] = pooled.info.setdefault(
            "bot.cursors", {}
        )

    @classmethod
    async def take(cls, engine: AsyncEngine) -> Checkout:
        """Take a connection from ``engine``'s pool; its transaction is not begun yet.

        Raises:
            sqlalchemy.exc.DBAPIError: The database cannot be reached (a new connection
                was needed), as SQLAlchemy raises it.
            sqlalchemy.exc.TimeoutError: Every connection of the pool stayed busy.
        """
        try:
            pooled = await engine.raw_connection()
        except psycopg.Error as error:
            raise _translated(engine, error, None, None) from error
        taken = cls(engine, pooled)
        try:
            await taken.driver.set_autocommit(True)  # no round trip: psycopg's own setting
        except BaseException as error:
            await taken.release(error)
            if isinstance(error, psycopg.Error):
                raise _translated(engine, error, None, None) from error
            raise
        return taken

    def cursor(self, query: bytes) -> psycopg.AsyncCursor[Any]:
        """The connection's cursor for ``query`` (made once per connection).

        A cursor that runs the same query object again keeps how it adapted the
        parameters: a new cursor per statement looked up the adapter of every parameter
        again, about 3 % of a message's CPU. A connection runs a few dozen queries at most
        (the lock, the peeks, the shapes of the writes).
        """
        cursor = self._cursors.get(query)
        if cursor is None:
            cursor = self._cursors[query] = self.driver.cursor()
        return cursor

    async def __aenter__(self) -> Checkout:
        return self

    async def __aexit__(self, _: Any, error: BaseException | None, __: Any) -> None:
        """Release the connection: commit, or roll back after ``error``."""
        await self.release(error)

    @property
    def dialect(self) -> Dialect:
        """The engine's dialect (to compile statements for)."""
        return self.engine.dialect

    @property
    def connection(self) -> AsyncConnection:
        """SQLAlchemy's connection over this one, in its transaction (built on first use).

        Building it sends nothing: SQLAlchemy's transaction only records the one begun.
        """
        if self._connection is None:
            sync = Connection(self.engine.sync_engine, connection=self._pooled)
            sync.begin()
            self._connection = AsyncConnection(self.engine, sync)
        return self._connection

    async def release(self, error: BaseException | None) -> None:
        """Commit (or, after ``error``, roll back) and return the connection to the pool.

        A transaction that committed with its last statement (:func:`first_rows` with
        ``commit``) has nothing left: psycopg sends no COMMIT outside a transaction. A
        connection that cannot be brought back out of its transaction and out of
        autocommit mode (it broke; a cancellation came in between) is dropped.

        Raises:
            sqlalchemy.exc.DBAPIError: The commit failed.
        """
        driver = self.driver
        failure: psycopg.Error | None = None
        try:
            if error is None:
                await driver.commit()
            else:
                await driver.rollback()
            await driver.set_autocommit(False)
        except psycopg.Error as failed:
            failure = failed
        finally:
            connection, self._connection = self._connection, None
            if (driver.autocommit or failure is not None) and self._pooled.is_valid:
                await greenlet_spawn(self._pooled.invalidate, failure)
            if connection is not None:
                await connection.close()  # gives back the pooled connection
            else:
                await greenlet_spawn(self._pooled.close)
        if failure is not None and error is None:
            raise _translated(self.engine, failure, "COMMIT", None) from failure


def _translated(
    engine: AsyncEngine, error: psycopg.Error, statement: str | None, params: Any
) -> StatementError:
    """``error`` as SQLAlchemy raises it for this engine (its kind, parameters hidden)."""
    return DBAPIError.instance(
        statement,
        params,
        error,
        psycopg.Error,
        hide_parameters=engine.sync_engine.hide_parameters,
        dialect=engine.dialect,
    )


async def first_rows(
    checkout: Checkout,
    statements: Sequence[tuple[Compiled, Mapping[str, Any]]],
    *,
    begin: bool = False,
    commit: bool = False,
) -> list[tuple[Any, ...] | None]:
    """Run ``statements`` in order in one round trip; return each one's first row.

    With ``begin``, the transaction's BEGIN goes first, in the same round trip (see
    :class:`Checkout`): a transaction's first statements are sent with it.

    With ``commit``, the transaction's COMMIT goes in the same round trip, after them:
    the transaction ends here, and SQLAlchemy's own commit afterwards finds nothing to
    do (psycopg sends no COMMIT outside a transaction). The COMMIT is sent as one more
    statement of the pipeline: psycopg's ``commit()`` in a pipeline syncs at once, and
    leaving the pipeline then syncs again, a second round trip.

    Raises:
        sqlalchemy.exc.DBAPIError: The database refused a statement or the commit, or
            cannot be reached.
    """
    sent: list[tuple[Compiled, dict[str, Any]]] = [
        (compiled, compiled.parameters(values)) for compiled, values in statements
    ]
    driver = checkout.driver
    try:
        if len(sent) == 1 and not (begin or commit):
            cursor = checkout.cursor(sent[0][0].query)
            await cursor.execute(sent[0][0].query, sent[0][1])
            return [await cursor.fetchone()]
        cursors = []
        async with driver.pipeline():
            if begin:
                await checkout.cursor(_BEGIN).execute(_BEGIN)
            for compiled, params in sent:
                cursor = checkout.cursor(compiled.query)
                if cursor in cursors:  # the same query twice: each needs its own results
                    cursor = driver.cursor()
                await cursor.execute(compiled.query, params)
                cursors.append(cursor)
            if commit:  # a statement, not commit(): that would add a round trip
                await checkout.cursor(_COMMIT).execute(_COMMIT)
        # a statement without rows (an INSERT without RETURNING) has no first row
        return [await c.fetchone() if c.description is not None else None for c in cursors]
    except psycopg.Error as error:
        raise await _failed(checkout, error, sent) from error


async def all_rows(
    checkout: Checkout, compiled: Compiled, values: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Run one query in its own round trip and return all its rows.

    Raises:
        sqlalchemy.exc.DBAPIError: The database refused it or cannot be reached.
    """
    params = compiled.parameters(values)
    try:
        cursor = checkout.cursor(compiled.query)
        await cursor.execute(compiled.query, params)
        return await cursor.fetchall()
    except psycopg.Error as error:
        raise await _failed(checkout, error, [(compiled, params)]) from error


async def _failed(
    checkout: Checkout, error: psycopg.Error, sent: Sequence[tuple[Compiled, dict[str, Any]]]
) -> StatementError:
    """What to raise for ``error`` (a lost connection goes through SQLAlchemy first)."""
    if checkout.driver.closed or checkout.driver.broken:
        await _lost(checkout.connection, error)
    return _translated(
        checkout.engine,
        error,
        "; ".join(compiled.sql for compiled, _ in sent),
        sent[0][1] if len(sent) == 1 else [params for _, params in sent],
    )


_BEGIN, _COMMIT = b"BEGIN", b"COMMIT"


async def _lost(connection: AsyncConnection, error: psycopg.Error) -> None:
    """The connection is gone (the server restarted?): let SQLAlchemy handle it as its own.

    A statement through SQLAlchemy fails at once on the closed connection, and SQLAlchemy
    then does what it does when it finds the server gone: it invalidates this connection
    and renews the rest of the pool (after a restart every pooled connection is dead), and
    raises its ``OperationalError``.
    """
    try:
        await connection.exec_driver_sql("SELECT 1")
    except DBAPIError as lost:
        raise lost from error
