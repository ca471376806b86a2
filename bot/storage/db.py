"""Database URLs, engines and migrations.

``DATABASE_URL`` may name a driver or not: ``sqlite:///data/bot.db`` and
``postgresql://user@host/db`` are turned into the async driver the app uses
(aiosqlite, psycopg 3) and the sync one Alembic uses.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from bot.errors import BotError

if TYPE_CHECKING:  # Alembic is imported only to migrate (it costs a serving process memory)
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

log = logging.getLogger(__name__)
T = TypeVar("T")


def async_url(url: str) -> URL:
    """Return ``url`` with the async driver the app uses."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(
        f"unsupported database: {parsed.get_backend_name()} (use sqlite or postgresql)"
    )


def sync_url(url: str) -> URL:
    """Return ``url`` with the sync driver Alembic uses."""
    parsed = async_url(url)
    return parsed.set(
        drivername="sqlite" if parsed.get_backend_name() == "sqlite" else parsed.drivername
    )


class UnusableDatabase(BotError):
    """The database cannot hold the bot's data as it is (its encoding, say)."""


def check_encoding(url: str) -> None:
    """Refuse a PostgreSQL database whose encoding is not UTF-8.

    Customers write in five languages. A ``SQL_ASCII`` database (what ``initdb`` makes
    under the C locale) stores bytes unchecked and hands back bytes where SQLAlchemy expects
    text, which failed deep inside its start-up with a ``TypeError``; a single-byte encoding
    cannot store Chinese or Korean at all. The server says its encoding when a connection
    opens, so this costs no query.

    Raises:
        UnusableDatabase: The encoding is another one.
        psycopg.OperationalError: The server cannot be reached.
    """
    target = sync_url(url)
    if target.get_backend_name() != "postgresql":
        return
    import psycopg

    conninfo = target.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, connect_timeout=10) as connection:
        encoding = connection.info.parameter_status("server_encoding") or "unknown"
    if encoding.upper() not in ("UTF8", "UTF-8"):
        raise UnusableDatabase(
            f"the database {target.database!r} is encoded in {encoding}, not UTF8: create it "
            f"with ENCODING 'UTF8' (CREATE DATABASE {target.database} ENCODING 'UTF8' "
            "TEMPLATE template0) and point DATABASE_URL at it"
        )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with synchronous=NORMAL: a commit survives the process being killed; only an
    # operating-system crash may lose the last commits. FULL fsyncs every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: a read-then-write turn never fails half-way with
    # SQLITE_BUSY; concurrent writers wait on busy_timeout instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(
    url: str, *, pool_size: int = 10, pool_timeout: float = 10.0, reader: bool = False
) -> AsyncEngine:
    """Create the app's async engine; SQLite gets WAL, foreign keys and a busy timeout.

    On PostgreSQL the pool holds ``pool_size`` connections, and opens no more under load:
    a request waits for one of them, and one that waits ``pool_timeout`` seconds fails
    (``sqlalchemy.exc.TimeoutError``, a 503 for the web API) instead of hanging. The pool
    had as many again as overflow until 2026-12-07; SQLAlchemy closes an overflow
    connection as soon as it is returned while the pool is full, so under a load of more
    turns than ``pool_size`` at once every few turns opened a connection (a server process
    forked, the turns' statements prepared again on it) and closed it again: at 100
    conversations at once, 265-336 new connections a 3,000 messages and 537-600 messages/s,
    against none and 930-939 without overflow (one process, 10 connections, the load
    benchmark's client; 1.30 against 1.06 ms of the bot's CPU a message).

    A ``reader`` engine (for pure reads, and read-only services called inside a turn)
    has a pool of its own, so a turn holding a connection never waits for a second one
    from its own pool. On SQLite it begins transactions deferred (in WAL mode it reads
    while a turn holds the write lock); on PostgreSQL it runs in autocommit. Read through
    :func:`read`, which retries a read whose pooled connection was dead.

    Errors never quote their statement's parameters (``hide_parameters``): they are what
    customers wrote, and an error's text may reach the log.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        if target.database and target.database != ":memory:":
            Path(target.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(target, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if not reader:
            event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    options = {
        "pool_size": pool_size,
        "max_overflow": 0,  # see above: overflow connections were opened and closed per turn
        "pool_timeout": pool_timeout,
        "hide_parameters": True,
    }
    if reader:
        # Pure reads, in autocommit (no BEGIN and ROLLBACK around each), through read():
        # no pre-ping, which cost a round trip per read (half of an order lookup's time
        # inside a turn); a pooled connection found dead is replaced and the read retried.
        return create_async_engine(target, **options, isolation_level="AUTOCOMMIT")
    # Turns: no pre-ping, it cost a round trip per message. A connection found dead (the
    # server restarted) fails that request with a clear 503 and SQLAlchemy replaces the
    # whole pool; later requests get new connections.
    # psycopg prepares no statement of its own here: it would answer every ROLLBACK on
    # the connection with DEALLOCATE ALL, which drops the statements the turns prepare
    # themselves (bot.storage.driver), and those are the ones each message sends.
    return create_async_engine(target, **options, connect_args={"prepare_threshold": None})


def found_disconnected(error: DBAPIError) -> bool:
    """Whether ``error`` is a pooled connection found dead, now replaced with the pool."""
    if error.connection_invalidated:
        log.warning("a pooled database connection was dead (the server restarted?): retrying")
        return True
    return False


async def read(engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Return what ``work`` reads on a connection of ``engine``, retried once if it was dead.

    SQLAlchemy's optimistic disconnect handling, for reads (they are safe to run twice):
    a pooled connection that the server dropped (it restarted since) fails its first
    statement; SQLAlchemy then invalidates it and every connection pooled before it, and
    the read runs again on a new connection. A database that is down fails that second
    attempt too, and the error is raised (``/readyz`` says "unreachable").

    Raises:
        sqlalchemy.exc.DBAPIError: The database could not be read.
    """
    try:
        async with engine.connect() as connection:
            return await work(connection)
    except DBAPIError as error:
        if not found_disconnected(error):
            raise
    async with engine.connect() as connection:
        return await work(connection)


async def read_session(engine: AsyncEngine, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Return what ``work`` reads in an ORM session on ``engine``; :func:`read` retries it."""

    async def in_session(connection: AsyncConnection) -> T:
        async with AsyncSession(connection, expire_on_commit=False) as session:
            return await work(session)

    return await read(engine, in_session)


def alembic_config(url: str) -> Config:
    """Build Alembic's configuration for ``url`` (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    rendered = sync_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``."""
    target = sync_url(url)
    if target.get_backend_name() == "sqlite" and target.database not in (None, "", ":memory:"):
        Path(target.database).parent.mkdir(parents=True, exist_ok=True)
    check_encoding(url)
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current(url: str) -> None:
    """Print the database's current revision."""
    from alembic import command

    command.current(alembic_config(url), verbose=False)
