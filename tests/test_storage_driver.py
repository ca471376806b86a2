"""PostgreSQL's hot path on psycopg's own connection (bot/storage/driver.py)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import Integer, bindparam, event, func, insert, literal_column, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.util import greenlet_spawn

from bot.app import Components
from bot.config import Settings
from bot.core import Channel, Incoming, Outgoing
from bot.storage import driver as pg
from bot.storage.models import Message, OrderAttempt, OrderAudit, utcnow
from bot.storage.store import Store
from tests.conftest import build_bot
from tests.test_storage import orphan_message

on_postgres = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
pytestmark = pytest.mark.postgres


async def _waiting_for_a_lock(connection: psycopg.AsyncConnection[tuple[int]]) -> int:
    cursor = await connection.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    row = await cursor.fetchone()
    return row[0] if row else 0


async def _until_one_waits_for_a_lock(database_url: str) -> None:
    """Return once one session waits for a lock (up to 2 s; then the test fails)."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as watch:
        for _ in range(200):
            if await _waiting_for_a_lock(watch):
                break
            await asyncio.sleep(0.01)
        assert await _waiting_for_a_lock(watch) == 1, "nothing waited for the lock"


async def autocommit_of_pooled(store: Store) -> list[bool]:
    """psycopg's autocommit setting of every connection waiting in the store's pool.

    A turn sends its own BEGIN, with psycopg in autocommit mode (driver.Checkout); every
    other user of the pool relies on psycopg's BEGIN, so none may find it on.
    """
    engine = store._engine
    taken = [await engine.raw_connection() for _ in range(engine.sync_engine.pool.checkedin())]
    try:
        return [bool(pooled.driver_connection.autocommit) for pooled in taken]  # type: ignore[union-attr]
    finally:
        for pooled in taken:
            await greenlet_spawn(pooled.close)


@on_postgres
async def test_the_peek_sees_what_was_committed_while_the_turn_waited_for_the_lock(
    bot_on: Components, database_url: str
) -> None:
    """A retry that waits for the first try's lock finds the first try's message.

    One statement that locked and peeked would read with the snapshot it took before
    it waited, and answer the retry a second time.
    """
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    async with await psycopg.AsyncConnection.connect(database_url) as first:
        await first.execute("SELECT 1 FROM conversations WHERE id = %s FOR UPDATE", (info.id,))
        cursor = await first.execute(
            "INSERT INTO messages (conversation_id, direction, sender, text, client_message_id,"
            " created_at) VALUES (%s, 'in', 'customer', 'hi', 'm-raced', now()) RETURNING id",
            (info.id,),
        )
        stored = await cursor.fetchone()

        async def retry() -> list[Outgoing] | None:
            async with bot_on.store.turn(info.id, "m-raced") as turn:
                return await turn.replay("m-raced")  # None: not found

        task = asyncio.create_task(retry())
        await _until_one_waits_for_a_lock(database_url)
        assert not task.done()
        await first.commit()
    assert await task == []  # found: the first try's message (it has no replies yet)
    assert stored is not None
    async with bot_on.store.turn(info.id, "m-raced") as turn:
        assert turn.peeked["store.replay"] == stored[0]


async def terminate(database_url: str, backend: int) -> None:
    """End a server process, as a restart of the database ends them all."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as admin:
        cursor = await admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        assert await cursor.fetchone() == (True,)


@on_postgres
async def test_more_turns_at_once_than_the_pool_holds_wait_for_its_connections(
    database_url: str,
    settings: Settings,
    parts,  # type: ignore[no-untyped-def]
) -> None:
    # Until 2026-12-07 the pool had as many overflow connections again, and SQLAlchemy
    # closes one as soon as it comes back to a full pool: under such a load every few
    # turns opened a connection (a server process forked, statements prepared again).
    small = replace(settings, database_url=database_url, database_pool_size=2)
    built = await build_bot(small, parts)
    opened: list[int] = []
    event.listen(built.engine.sync_engine, "connect", lambda *_: opened.append(1))
    try:
        chats = [(await built.store.create_conversation(Channel.WEB))[0] for _ in range(8)]

        async def talk(conversation_id: str) -> list[str | None]:
            said = []
            for index, text in enumerate(("hello", "when is the live chat open?", "thanks")):
                replies = await built.pipeline.handle(Incoming(conversation_id, text, f"m{index}"))
                said.append(replies[0].intent)
            return said

        answered = await asyncio.gather(*(talk(chat.id) for chat in chats))
        assert answered == [["greet", "faq_live_chat", "thanks"]] * len(chats)
        assert len(opened) <= 2, f"{len(opened)} connections opened for a pool of 2"
    finally:
        await built.close()


@on_postgres
async def test_a_turn_that_finds_its_pooled_connection_dead_begins_again_on_a_new_one(
    bot_on: Components, database_url: str
) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    await bot_on.pipeline.handle(Incoming(info.id, "hello", "m1"))
    async with bot_on.store.turn(info.id) as turn:  # the one connection of the turns' pool
        backend = turn._checkout.driver.info.backend_pid
    await terminate(database_url, backend)
    # The lock found the connection dead before the turn did anything: it begins again.
    replies = await bot_on.pipeline.handle(Incoming(info.id, "hello again", "m2"))
    assert replies and replies[0].intent == "greet"
    async with bot_on.store.turn(info.id) as turn:
        assert turn._checkout.driver.info.backend_pid != backend
    transcript = await bot_on.store.transcript(info.id)
    assert [m.text for m in transcript if m.direction == "in"] == ["hello", "hello again"]


@on_postgres
async def test_a_new_conversation_begins_again_when_its_pooled_connection_is_dead(
    bot_on: Components, database_url: str
) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    async with bot_on.store.turn(info.id) as turn:  # the one connection of the writes' pool
        backend = turn._checkout.driver.info.backend_pid
    await terminate(database_url, backend)
    created, token = await bot_on.store.create_conversation(Channel.WEB)
    await bot_on.store.verify_token(created.id, token)
    assert await bot_on.store.conversation(created.id) is not None


@on_postgres
async def test_a_connection_lost_within_a_turn_fails_it_with_sqlalchemys_error_then_recovers(
    bot_on: Components, database_url: str
) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    with pytest.raises(OperationalError) as raised:
        async with bot_on.store.turn(info.id, "m1") as turn:
            await terminate(database_url, turn._checkout.driver.info.backend_pid)
            await turn.record(
                Incoming(info.id, "hello", "m1"), language="en", intent=None, replies=[], state={}
            )
    assert raised.value.connection_invalidated
    # Nothing of the failed turn was kept; the next one runs on a new connection.
    replies = await bot_on.pipeline.handle(Incoming(info.id, "hello again", "m2"))
    assert replies and replies[0].intent == "greet"
    transcript = await bot_on.store.transcript(info.id)
    assert [m.text for m in transcript if m.direction == "in"] == ["hello again"]


@on_postgres
async def test_a_refused_statement_raises_sqlalchemys_kind_of_error(bot_on: Components) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    orphan = orphan_message("write to jane.doe@example.com")
    with pytest.raises(IntegrityError) as raised:
        async with bot_on.store.turn(info.id) as turn:
            assert turn._checkout is not None
            compiled = pg.compile_for(orphan, turn._checkout.dialect)
            await pg.first_rows(turn._checkout, [(compiled, {})])
    assert isinstance(raised.value, DBAPIError)
    assert not raised.value.connection_invalidated
    assert isinstance(raised.value.orig, psycopg.errors.ForeignKeyViolation)
    assert "jane.doe" not in str(raised.value)  # what customers wrote never reaches a log
    assert await autocommit_of_pooled(bot_on.store) == [False]
    async with bot_on.store.turn(info.id) as turn:  # the connection is still good
        assert turn.conversation.id == info.id


@on_postgres
async def test_one_query_twice_in_a_round_trip_gives_each_its_own_row(bot_on: Components) -> None:
    """A query prepared once per connection, sent twice in one round trip: two results."""
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    echo = select(bindparam("n", type_=Integer))
    async with bot_on.store.turn(info.id) as turn:
        assert turn._checkout is not None
        compiled = pg.compile_for(echo, turn._checkout.dialect)
        for _ in range(2):  # the second time on the statement prepared the first time
            rows = await pg.first_rows(turn._checkout, [(compiled, {"n": 1}), (compiled, {"n": 2})])
            assert rows == [(1,), (2,)]


def test_json_parameters_are_sent_as_sqlalchemy_sends_them() -> None:
    from sqlalchemy.dialects import postgresql

    statement = insert(Message).values(conversation_id="c", text="t", payload={"a": 1})
    compiled = pg.compile_for(statement, postgresql.psycopg.dialect())
    assert compiled.json == {"payload"}
    sent = compiled.parameters({"payload": None, "text": "u"})
    assert isinstance(sent["payload"], psycopg.types.json.Json)  # JSON null, as SQLAlchemy
    assert sent["payload"].obj is None
    assert (sent["text"], sent["conversation_id"]) == ("u", "c")


@on_postgres
async def test_a_turn_cancelled_while_waiting_for_the_lock_leaves_a_usable_pool(
    bot_on: Components, database_url: str
) -> None:
    """A request cancelled mid-statement (a client gone, a shutdown) spoils no connection."""
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    await bot_on.pipeline.handle(Incoming(info.id, "hello", "m1"))
    async with await psycopg.AsyncConnection.connect(database_url) as first:
        await first.execute("SELECT 1 FROM conversations WHERE id = %s FOR UPDATE", (info.id,))
        waiting = asyncio.create_task(bot_on.pipeline.handle(Incoming(info.id, "hi", "m2")))
        await _until_one_waits_for_a_lock(database_url)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await first.rollback()
    for n in range(3):  # every pooled connection is usable again
        replies = await bot_on.pipeline.handle(Incoming(info.id, "thanks", f"t{n}"))
        assert replies and replies[0].intent == "thanks"
    transcript = await bot_on.store.transcript(info.id)
    assert [m.text for m in transcript if m.direction == "in"] == ["hello", *["thanks"] * 3]
    pooled = await autocommit_of_pooled(bot_on.store)
    assert pooled and not any(pooled)


@on_postgres
async def test_a_dropped_connection_renews_the_whole_pool_as_sqlalchemy_does(
    bot_on: Components, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """After a database restart every pooled connection is dead: one turn finds it out.

    SQLAlchemy, finding one of its connections lost, renews the whole pool; the turn's
    statements on psycopg's connection must lead to the same. No message fails: the turn
    that found it begins again, and the others get new connections at once.
    """
    chats = [(await bot_on.store.create_conversation(Channel.WEB))[0] for _ in range(3)]
    backends: set[int] = set()

    async def hold(chat_id: str, entered: asyncio.Event, release: asyncio.Event) -> None:
        async with bot_on.store.turn(chat_id) as turn:
            assert turn._checkout is not None
            backends.add(turn._checkout.driver.info.backend_pid)
            entered.set()
            await release.wait()

    release = asyncio.Event()
    entered = [asyncio.Event() for _ in range(3)]
    holders = [
        asyncio.create_task(hold(chat.id, ready, release))
        for chat, ready in zip(chats, entered, strict=True)
    ]
    await asyncio.gather(*(ready.wait() for ready in entered))
    release.set()
    await asyncio.gather(*holders)
    assert len(backends) == 3  # three connections now wait in the pool
    for backend in backends:
        await terminate(database_url, backend)
    caplog.set_level(logging.WARNING, logger="bot.storage.store")
    for chat in chats:
        replies = await bot_on.pipeline.handle(Incoming(chat.id, "hello", "m2"))
        assert replies and replies[0].intent == "greet"
    # Only the first turn found a dead connection: the other two were renewed, not handed out.
    dead = [r for r in caplog.records if "pooled database connection was dead" in r.message]
    assert len(dead) == 1


@contextmanager
def round_trips(store: Store) -> Iterator[list[int]]:
    """Count the round trips to the server of the connections ``store`` checks out.

    libpq's own trace of the protocol: a round trip is a run of the client's messages
    answered by the server's (``F`` lines, then ``B`` lines). The list holds the count
    once the block ends.
    """
    traced: list[Any] = []

    def checked_out(dbapi_connection: Any, *_: Any) -> None:
        pgconn = dbapi_connection.driver_connection.pgconn
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        traced.append(pgconn)

    engine = store._engine.sync_engine
    counted: list[int] = []
    with tempfile.TemporaryFile() as trace:
        event.listen(engine, "checkout", checked_out)
        try:
            yield counted
        finally:
            event.remove(engine, "checkout", checked_out)
            for pgconn in traced:
                pgconn.untrace()
        trace.seek(0)
        sides = [line[:1] for line in trace.read().decode().splitlines() if line[:1] in "FB"]
    counted.append(sum(1 for pair in itertools.pairwise(sides) if pair == ("F", "B")))


@on_postgres
async def test_a_message_costs_two_round_trips(bot_on: Components, database_url: str) -> None:
    """The BEGIN, the lock and the peek; the writes and the COMMIT (four before 2026-12-06)."""
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    await bot_on.pipeline.handle(Incoming(info.id, "hello", "m1"))  # the pool is warm
    with round_trips(bot_on.store) as counted:
        replies = await bot_on.pipeline.handle(Incoming(info.id, "What are your hours?", "m2"))
    assert replies and replies[0].intent == "faq_service_hours"
    assert counted == [2]
    assert await autocommit_of_pooled(bot_on.store) == [False]
    async with await psycopg.AsyncConnection.connect(database_url) as other:  # committed
        cursor = await other.execute(
            "SELECT count(*) FROM messages WHERE conversation_id = %s", (info.id,)
        )
        assert await cursor.fetchone() == (2 * (1 + len(replies)),)


async def test_a_turn_takes_no_statement_after_record(bot_on: Components) -> None:
    """Record is a turn's last step (on PostgreSQL it is written with the COMMIT)."""
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    incoming = Incoming(info.id, "hi", "m1")
    for late_step in ("session", "save_state", "replay", "rows", "write"):
        with pytest.raises(RuntimeError, match="after record"):
            async with bot_on.store.turn(info.id, "m1") as turn:
                await turn.record(incoming, language="en", intent=None, replies=[], state={})
                if late_step == "session":
                    turn.session  # noqa: B018 - opening it is the step
                elif late_step == "save_state":
                    await turn.save_state({"misses": 2})
                elif late_step == "rows":
                    await turn.rows(select(bindparam("n", type_=Integer)), {"n": 1})
                elif late_step == "write":
                    await turn.write(_AUDIT_ROW, {"c": info.id})
                else:
                    await turn.replay("m1")
    assert await bot_on.store.transcript(info.id) == []  # each of those turns rolled back


_AUDIT_ROW = insert(OrderAudit).values(
    conversation_id=bindparam("c"), channel="web", actor="test", action="a", outcome="o"
)


async def audit_rows(bot: Components, conversation_id: str) -> list[str]:
    async with bot.engine.connect() as connection:
        rows = await connection.scalars(
            select(OrderAudit.outcome)
            .where(OrderAudit.conversation_id == conversation_id)
            .order_by(OrderAudit.id)
        )
        return list(rows)


async def test_a_steps_write_commits_with_the_turn_or_not_at_all(bot_on: Components) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    written = insert(OrderAudit).values(
        conversation_id=bindparam("c"),
        channel="web",
        actor="test",
        action="a",
        outcome=bindparam("outcome"),
        created_at=bindparam("at", type_=OrderAudit.__table__.c.created_at.type),
    )
    with pytest.raises(ValueError, match="the step failed"):
        async with bot_on.store.turn(info.id) as turn:
            await turn.write(written, {"c": info.id, "outcome": "lost", "at": utcnow()})
            raise ValueError("the step failed")
    async with bot_on.store.turn(info.id) as turn:
        await turn.write(written, {"c": info.id, "outcome": "kept", "at": utcnow()})
        await turn.write(written, {"c": info.id, "outcome": "kept too", "at": utcnow()})
        await turn.record(Incoming(info.id, "hi"), language="en", intent=None, replies=[], state={})
    assert await audit_rows(bot_on, info.id) == ["kept", "kept too"]


async def test_a_steps_query_sees_what_the_turns_orm_session_holds(bot_on: Components) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    count = select(func.count()).where(OrderAttempt.key == bindparam("key"))
    async with bot_on.store.turn(info.id) as turn:
        assert await turn.rows(count, {"key": "k"}) == [(0,)]
        turn.session.add(OrderAttempt(key="k", created_at=utcnow()))
        assert await turn.rows(count, {"key": "k"}) == [(1,)]  # flushed first
        assert await turn.rows(count, {"key": "other"}) == [(0,)]


@on_postgres
async def test_an_order_lookup_takes_one_round_trip_more_than_a_message(
    bot_on: Components,
) -> None:
    """The failures count is one more round trip; the audit row goes with the COMMIT."""
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    await bot_on.pipeline.handle(Incoming(info.id, "hello", "m1"))  # the pool is warm
    with round_trips(bot_on.store) as counted:
        replies = await bot_on.pipeline.handle(
            Incoming(info.id, "Where is my order ORD2025000701?", "m2")
        )
    assert [r.intent for r in replies] == ["order_status"]
    assert counted == [3]
    assert await audit_rows(bot_on, info.id) == ["asked_verification"]
    assert await autocommit_of_pooled(bot_on.store) == [False]


@on_postgres
async def test_a_steps_refused_query_raises_sqlalchemys_kind_of_error(bot_on: Components) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    with pytest.raises(DBAPIError) as raised:
        async with bot_on.store.turn(info.id) as turn:
            await turn.rows(select(func.sqrt(bindparam("n", type_=Integer))), {"n": -1})
    assert isinstance(raised.value.orig, psycopg.errors.InvalidArgumentForPowerFunction)
    assert await autocommit_of_pooled(bot_on.store) == [False]


def test_statements_get_numbered_placeholders_and_literal_percent_signs() -> None:
    from sqlalchemy.dialects import postgresql

    statement = select(
        literal_column("'5%'").label("share"), bindparam("a"), bindparam("b"), bindparam("a")
    )
    compiled = pg.compile_for(statement, postgresql.psycopg.dialect())
    assert "%%" in compiled.sql  # psycopg's style, as SQLAlchemy writes it
    assert compiled.query.decode().count("'5%'") == 1
    assert "$1" in compiled.query.decode() and "$3" not in compiled.query.decode()
    assert compiled.names == ("a", "b")
    assert compiled.positional({"a": 1, "b": 2}) == [1, 2]


@on_postgres
async def test_each_statement_is_prepared_once_per_connection(bot_on: Components) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    for number in range(3):
        await bot_on.pipeline.handle(Incoming(info.id, "What are your hours?", f"m{number}"))
    async with bot_on.store.turn(info.id) as turn:
        assert turn._checkout is not None
        listed = (
            select(func.count(), func.count(func.distinct(literal_column("statement"))))
            .select_from(text("pg_prepared_statements"))
            .where(literal_column("name").like("bot_%"))
        )
        [(prepared, distinct)] = await turn.rows(listed, {})
    assert 2 <= prepared == distinct  # the lock, the peek, the write: each once


@on_postgres
async def test_a_refused_statement_is_not_taken_for_prepared(bot_on: Components) -> None:
    """A statement the server refused to prepare is prepared again next time (and refused)."""
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    wrong = select(literal_column("no_such_column")).select_from(text("conversations"))
    for _ in range(2):
        with pytest.raises(DBAPIError) as raised:
            async with bot_on.store.turn(info.id) as turn:
                await turn.rows(wrong, {})
        assert isinstance(raised.value.orig, psycopg.errors.UndefinedColumn)
    async with bot_on.store.turn(info.id) as turn:  # the connection goes on
        assert await turn.rows(select(bindparam("n", type_=Integer)), {"n": 7}) == [(7,)]


@on_postgres
async def test_values_keep_their_types_both_ways(bot_on: Components) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import JSON, BigInteger, Boolean, DateTime, String

    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    when = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    echo = select(
        bindparam("text", type_=String),
        bindparam("number", type_=BigInteger),
        bindparam("flag", type_=Boolean),
        bindparam("when", type_=DateTime(timezone=True)),
        bindparam("document", type_=JSON),
        bindparam("nothing", type_=String),
    )
    values = {
        "text": "訂單 ORD123 ☃ 100% 'quoted'",
        "number": 2**40,
        "flag": True,
        "when": when,
        "document": {"a": [1, "二"], "b": None},
        "nothing": None,
    }
    async with bot_on.store.turn(info.id) as turn:
        assert await turn.rows(echo, values) == [tuple(values.values())]


@on_postgres
async def test_statements_dropped_behind_the_turns_back_are_prepared_again(
    bot_on: Components, caplog: pytest.LogCaptureFixture
) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    await bot_on.pipeline.handle(Incoming(info.id, "hello", "m1"))
    async with bot_on.store.turn(info.id) as turn:
        assert turn._checkout is not None
        await turn._checkout.driver.execute("DEALLOCATE ALL")  # as a pooler's reset would
    with caplog.at_level(logging.WARNING, logger="bot.storage.store"):
        replies = await bot_on.pipeline.handle(Incoming(info.id, "What are your hours?", "m2"))
    assert replies and replies[0].intent == "faq_service_hours"
    assert "prepared statements were dropped: retrying" in caplog.text
    transcript = await bot_on.store.transcript(info.id)
    assert [m.text for m in transcript if m.direction == "in"] == [
        "hello",
        "What are your hours?",
    ]


@on_postgres
async def test_a_value_that_cannot_be_sent_leaves_the_connection_usable(
    bot_on: Components,
) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    echo = select(bindparam("n", type_=Integer))
    with pytest.raises(DBAPIError) as raised:
        async with bot_on.store.turn(info.id) as turn:
            await turn.rows(echo, {"n": object()})
    assert isinstance(raised.value.orig, psycopg.ProgrammingError)
    assert "cannot adapt" in str(raised.value.orig)
    assert not raised.value.connection_invalidated
    assert await autocommit_of_pooled(bot_on.store) == [False]
    async with bot_on.store.turn(info.id) as turn:  # the same connection goes on
        assert await turn.rows(echo, {"n": 3}) == [(3,)]


@on_postgres
async def test_an_answer_that_came_while_other_work_ran_is_read_without_watching_the_socket(
    bot_on: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round trip lets the event loop run other ready work before it waits for its answer.

    When the database has answered by then (under load, other requests' work takes that
    long), the answer is read at once; otherwise the socket is watched until it comes.
    """
    loop = asyncio.get_running_loop()
    watched: list[int] = []
    watch = loop.add_reader

    def add_reader(socket: int, *args: Any) -> None:
        watched.append(socket)
        watch(socket, *args)

    monkeypatch.setattr(loop, "add_reader", add_reader)
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    pause = select(func.pg_sleep(bindparam("seconds")))
    async with bot_on.store.turn(info.id) as turn:
        assert turn._checkout is not None
        checkout, dialect = turn._checkout, turn._checkout.dialect
        quick, slow = (
            pg.compile_for(select(literal_column("1")), dialect),
            pg.compile_for(pause, dialect),
        )

        async def another_request() -> None:
            time.sleep(0.5)  # its CPU work, while the round trip below yields

        watched.clear()  # (beginning the turn watched it: nothing else was running)
        others = asyncio.create_task(another_request())
        assert await pg.first_rows(checkout, [(quick, {})]) == [(1,)]
        await others
        assert watched == []  # the answer had come while the other request ran
        # nothing else to run, and an answer that takes 0.2 s: the socket is watched
        assert await pg.first_rows(checkout, [(slow, {"seconds": 0.2})]) == [("",)]
        assert watched == [checkout.driver.pgconn.socket]
