"""PostgreSQL's hot path: a turn's own statements run on psycopg's connection itself.

Every message's turn runs the same few statements: lock the conversation, peek (a
retried message, an open ticket), write the messages. A bot process is CPU-bound, and
through SQLAlchemy's execution each of them cost about 0.4 ms of CPU on the development
machine, against 0.15 ms run on the psycopg connection underneath (``benchmarks/
statements.py``). So on PostgreSQL these few run there, inside the turn's transaction
on its pooled connection: SQLAlchemy still builds and compiles them, once; each is
prepared on a connection at its first use there. They are sent through psycopg's libpq
binding itself (:class:`_Wire`), which cost less than half the CPU of psycopg's cursors.

A turn takes two round trips (libpq's pipeline mode): the BEGIN, the lock and the
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

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result
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
    #: ``sql`` with libpq's ``$1, $2, ...`` placeholders, as sent (the database's encoding
    #: is UTF-8); it is also the key of the statement prepared for it on a connection.
    query: bytes
    #: The parameter names in the order of ``$1, $2, ...``.
    names: tuple[str, ...]

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters to send for ``values`` (by bind name)."""
        params = {**self.defaults, **values}
        for name in self.json:
            if name in params:
                params[name] = Json(params[name])
        return params

    def positional(self, params: Mapping[str, Any]) -> list[Any]:
        """:meth:`parameters`' result in the order of ``$1, $2, ...``.

        Raises:
            KeyError: A parameter of the statement has no value.
        """
        return [params[name] for name in self.names]


_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")


def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` (psycopg's ``%(name)s`` style) with ``$n`` placeholders, and the names."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:  # "%%", a literal percent sign
            return "%"
        return f"${names.setdefault(name, len(names) + 1)}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)


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
    numbered, names = _numbered(sql)
    return Compiled(sql, defaults, json, numbered.encode(), names)


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
        wire = pooled.info.get("bot.wire")
        if wire is None or wire.pgconn is not driver.pgconn:
            wire = pooled.info["bot.wire"] = _Wire(driver)
        self.wire: _Wire = wire

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
    try:
        results = await checkout.wire.exchange(sent, begin=begin, commit=commit)
        # a statement without rows (an INSERT without RETURNING) has no first row
        return [checkout.wire.row(result) for result in results]
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
        [result] = await checkout.wire.exchange([(compiled, params)])
        return checkout.wire.rows(result)
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
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)


class _Wire:
    """One pooled connection's libpq side: statements sent in pipeline mode, by libpq.

    psycopg's cursors in its pipeline mode cost 0.56 ms of CPU for a turn's two round
    trips (BEGIN, lock, peek; write, COMMIT) on the development machine, against
    0.23 ms for the same statements, prepared the same way, sent here through the
    connection's libpq wrapper (``psycopg.pq``, psycopg's own C binding) and adapted by
    psycopg's :class:`~psycopg.adapt.Transformer` (its dumpers and loaders, the same
    types both ways). Each statement is prepared on the connection on its first use
    (named ``bot_1``, ``bot_2``, ...; psycopg's own are ``_pg3_*``), in the same round
    trip. Errors are psycopg's, built from the server's result as psycopg builds them.
    """

    def __init__(self, driver: psycopg.AsyncConnection[Any]) -> None:
        self.pgconn = driver.pgconn
        self._adapt = Transformer(driver)
        #: (query, parameter types) -> the name of the statement prepared for them
        self._prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self._count = 0  # statements prepared (or tried) so far: names are never reused

    async def exchange(
        self,
        statements: Sequence[tuple[Compiled, Mapping[str, Any]]],
        *,
        begin: bool = False,
        commit: bool = False,
    ) -> list[pq.abc.PGresult]:
        """Send ``statements`` in one round trip and return their results, in order.

        With ``begin`` a BEGIN goes first, with ``commit`` a COMMIT last (their results
        are not returned). A refused statement is raised once every result of the round
        trip was read: the connection stays usable, its transaction aborted. Anything
        else that stops the exchange half-way (a lost connection, a cancellation) closes
        the connection, which the pool then drops.

        Raises:
            psycopg.Error: The database refused a statement, or cannot be reached.
        """
        pgconn, adapt = self.pgconn, self._adapt
        if pgconn.status != pq.ConnStatus.OK:
            raise psycopg.OperationalError("the connection is lost")
        # adapted before anything is sent: a value psycopg cannot adapt leaves the
        # connection as it was
        adapted = []
        for compiled, params in statements:
            values = adapt.dump_sequence(compiled.positional(params), _auto(compiled))
            adapted.append((compiled.query, values, tuple(adapt.types or ()), adapt.formats))
        # what each result to come answers: a PREPARE (its key and name), or a statement
        expected: list[tuple[tuple[bytes, tuple[int, ...]], bytes] | None] = []
        preparing: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        done = False
        pgconn.enter_pipeline_mode()
        try:
            if begin:
                pgconn.send_query_params(_BEGIN, None)
                expected.append(None)
            for query, values, types, formats in adapted:
                key = (query, types)
                name = self._prepared.get(key) or preparing.get(key)
                if name is None:
                    self._count += 1
                    name = preparing[key] = b"bot_%d" % self._count
                    pgconn.send_prepare(name, query, param_types=types)
                    expected.append((key, name))
                pgconn.send_query_prepared(name, values, param_formats=formats)
                expected.append(None)
            if commit:
                pgconn.send_query_params(_COMMIT, None)
                expected.append(None)
            pgconn.pipeline_sync()
            results = await self._read(len(expected))
            pgconn.exit_pipeline_mode()
            done = True
        finally:
            if not done and pgconn.status == pq.ConnStatus.OK:
                pgconn.finish()  # half sent or half read: unusable
        failed: psycopg.Error | None = None
        answers = []
        for prepare, result in zip(expected, results, strict=True):
            if result.status not in _OK:
                if failed is None and result.status == pq.ExecStatus.FATAL_ERROR:
                    failed = error_from_result(result, encoding=_ENCODING)
            elif prepare is not None:
                self._prepared[prepare[0]] = prepare[1]
            else:
                answers.append(result)
        if failed is not None:
            if failed.sqlstate == NO_SUCH_STATEMENT:  # dropped (DEALLOCATE ALL, DISCARD ALL)
                self._prepared.clear()  # prepared again from the next round trip on
            raise failed
        return answers[1 if begin else 0 : len(answers) - (1 if commit else 0)]

    async def _read(self, count: int) -> list[pq.abc.PGresult]:
        """Flush what was sent; read ``count`` results and the pipeline's sync point.

        The answer is waited for by letting the event loop run what else is ready first
        (``asyncio.sleep(0)``), then looking whether it came meanwhile; only when it has
        not is the socket watched (``add_reader``) until it does. Under load other
        requests' work runs in between, and the database has answered by the time the
        turn comes back: through the load benchmark's levels 6,779 reads of the first
        8,000 found their answer so (85 %; with one conversation at a time there is
        nothing else to run, and a read waits), and a message cost 3.2-10.5 % less CPU
        side by side (see the README).
        Watching the socket for each read (an ``epoll_ctl`` to add it and one to remove
        it, a future and its callback) had cost about 3 % of a serving process's CPU.
        """
        pgconn = self.pgconn
        loop = asyncio.get_running_loop()
        socket = pgconn.socket
        while pgconn.flush():  # the socket took only part of it: wait until writable
            await _ready(loop.add_writer, loop.remove_writer, socket)
        results: list[pq.abc.PGresult] = []
        yielded = False
        while True:
            while pgconn.is_busy():
                if yielded:
                    await _ready(loop.add_reader, loop.remove_reader, socket)
                else:  # the other ready tasks first: the answer may come meanwhile
                    await asyncio.sleep(0)
                    yielded = True
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:  # the end of one statement's results
                continue
            if result.status == pq.ExecStatus.PIPELINE_SYNC:
                if len(results) != count:
                    raise psycopg.InternalError(f"{len(results)} results, {count} expected")
                return results
            results.append(result)

    def row(self, result: pq.abc.PGresult) -> tuple[Any, ...] | None:
        """The first row of ``result`` (``None`` without rows or columns)."""
        if not result.nfields or not result.ntuples:
            return None
        self._adapt.set_pgresult(result)
        row: tuple[Any, ...] = self._adapt.load_row(0, tuple)
        return row

    def rows(self, result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
        """Every row of ``result``."""
        if not result.nfields:
            return []
        self._adapt.set_pgresult(result)
        rows: list[tuple[Any, ...]] = self._adapt.load_rows(0, result.ntuples, tuple)
        return rows


#: invalid_sql_statement_name: a prepared statement the connection no longer has
NO_SUCH_STATEMENT = "26000"
_ENCODING = "utf-8"  # the database's (bot.storage.db refuses any other)
_FORMATS: dict[int, list[PyFormat]] = {}


def _auto(compiled: Compiled) -> list[PyFormat]:
    """The format psycopg chooses for every parameter of ``compiled`` (as ``%s`` gets)."""
    count = len(compiled.names)
    formats = _FORMATS.get(count)
    if formats is None:
        formats = _FORMATS[count] = [PyFormat.AUTO] * count
    return formats


async def _ready(watch: Callable[..., Any], unwatch: Callable[[int], Any], socket: int) -> None:
    """Wait until the event loop finds ``socket`` ready (readable or writable, by ``watch``)."""
    waiter = asyncio.get_running_loop().create_future()
    watch(socket, _wake, waiter)
    try:
        await waiter
    finally:
        unwatch(socket)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


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
