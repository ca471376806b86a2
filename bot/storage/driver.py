"""PostgreSQL's hot path: a turn's own statements run on psycopg's connection itself.

Every message's turn runs the same few statements: lock the conversation, peek (a
retried message, an open ticket), write the messages. A bot process is CPU-bound, and
through SQLAlchemy's execution each of them cost about 0.4 ms of CPU on the development
machine, against 0.15 ms run on the psycopg connection underneath (``benchmarks/
statements.py``). So on PostgreSQL these few run there, inside the turn's transaction
(its SQLAlchemy connection's own driver connection): SQLAlchemy still builds and
compiles them, once; psycopg prepares them on each connection after a few uses.

A turn takes three round trips: the BEGIN (psycopg waits for its answer before anything
else, in pipeline mode too); the lock and the peek (psycopg's pipeline mode); the writes
and the COMMIT. The lock and the peek are two statements, so the peek still reads what
was committed while the turn waited for the lock, which one statement with both would
not (its snapshot is taken before it waits).

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
from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement as SQL text for psycopg, with what its parameters need."""

    sql: str
    #: Values SQLAlchemy bound itself (literals): sent unless the caller gives the name.
    defaults: Mapping[str, Any]
    #: Parameters of JSON columns: sent wrapped in :class:`psycopg.types.json.Json`, as
    #: SQLAlchemy sends them (``None`` included, which is stored as JSON ``null``).
    json: frozenset[str]

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
    return Compiled(str(compiled), defaults, json)


async def driver_of(connection: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under ``connection`` (in its transaction)."""
    proxied = await connection.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = proxied.driver_connection  # type: ignore[assignment]
    return driver


async def first_rows(
    connection: AsyncConnection,
    driver: psycopg.AsyncConnection[Any],
    statements: Sequence[tuple[Compiled, Mapping[str, Any]]],
    *,
    commit: bool = False,
) -> list[tuple[Any, ...] | None]:
    """Run ``statements`` in order in one round trip; return each one's first row.

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
        if len(sent) == 1 and not commit:
            cursor = driver.cursor()
            await cursor.execute(sent[0][0].sql, sent[0][1])
            return [await cursor.fetchone()]
        cursors = []
        async with driver.pipeline():
            for compiled, params in sent:
                cursor = driver.cursor()
                await cursor.execute(compiled.sql, params)
                cursors.append(cursor)
            if commit:  # a statement, not commit(): that would add a round trip
                await driver.cursor().execute("COMMIT")
        return [await cursor.fetchone() for cursor in cursors]
    except psycopg.Error as error:
        if driver.closed or driver.broken:
            await _lost(connection, error)
        raise DBAPIError.instance(
            "; ".join(compiled.sql for compiled, _ in sent),
            sent[0][1] if len(sent) == 1 else [params for _, params in sent],
            error,
            psycopg.Error,
            hide_parameters=connection.sync_engine.hide_parameters,
            dialect=connection.dialect,
        ) from error


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
