"""Storage on SQLite and PostgreSQL: migrations, tokens, turns and idempotent retries."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import Insert, create_engine, event, insert, inspect
from sqlalchemy.exc import IntegrityError

from bot.app import Components
from bot.config import Settings
from bot.core import Action, Channel, Incoming, Outgoing
from bot.errors import ConversationNotFound, InvalidToken
from bot.handoff import tickets
from bot.storage import db
from bot.storage.db import downgrade, sync_url, upgrade
from bot.storage.models import Message
from bot.storage.store import Store
from tests.conftest import POSTGRES_URL, build_bot


def test_migrations_go_up_and_down(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine(sync_url(database_url))
    assert {"conversations", "messages", "customers"} <= set(inspect(engine).get_table_names())
    downgrade(database_url, "base")
    assert "conversations" not in inspect(engine).get_table_names()
    upgrade(database_url)
    assert "messages" in inspect(engine).get_table_names()
    engine.dispose()


async def test_token_is_checked(bot_on: Components) -> None:
    info, token = await bot_on.store.create_conversation(Channel.WEB, language_hint="de-DE")
    assert (await bot_on.store.authenticate(info.id, token)).language_hint == "de-DE"
    with pytest.raises(InvalidToken):
        await bot_on.store.authenticate(info.id, token + "x")
    with pytest.raises(InvalidToken):
        await bot_on.store.authenticate(info.id, None)
    with pytest.raises(ConversationNotFound):
        await bot_on.store.authenticate("no-such-id", token)


async def test_a_turn_saves_message_replies_and_state_together(bot_on: Components) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    replies = [
        Outgoing("Hallo!", "de", "greet", Action.ANSWER, ("Hilfe",)),
        Outgoing("Zoll: nein.", "de", "customs", Action.REFUSE, details={"reason": "customs"}),
        Outgoing("Ticket 7", "de", "handoff", Action.HANDOFF, details={"ticket": {"id": 7}}),
    ]
    async with bot_on.store.turn(info.id, "m1") as turn:
        assert await turn.replay("m1") is None
        await turn.record(
            Incoming(info.id, "Hallo", "m1", timezone="Europe/Berlin"),
            language="de",
            intent="greet",
            replies=replies,
            state={"misses": 0},
        )
        assert turn.conversation.language == "de"  # the turn sees what it wrote
    async with bot_on.store.turn(info.id, "m1") as turn:
        assert await turn.replay("m1") == replies
        assert turn.state == {"misses": 0}
        assert (turn.conversation.language, turn.conversation.timezone) == ("de", "Europe/Berlin")
    async with bot_on.store.turn(info.id) as turn:  # a retry found without the peek, too
        assert await turn.replay("m1") == replies
    transcript = await bot_on.store.transcript(info.id)
    assert [(m.direction, m.sender, m.text) for m in transcript] == [
        ("in", "customer", "Hallo"),
        ("out", "bot", "Hallo!"),
        ("out", "bot", "Zoll: nein."),
        ("out", "bot", "Ticket 7"),
    ]


async def test_a_failed_turn_stores_nothing(bot_on: Components) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    with pytest.raises(RuntimeError):
        async with bot_on.store.turn(info.id) as turn:
            await turn.record(
                Incoming(info.id, "hi", "m1"),
                language="en",
                intent=None,
                replies=[],
                state={"misses": 1},
            )
            raise RuntimeError("the pipeline failed after recording")
    assert await bot_on.store.transcript(info.id) == []


async def test_turn_on_unknown_conversation(bot_on: Components) -> None:
    with pytest.raises(ConversationNotFound):
        async with bot_on.store.turn("missing"):
            pass


async def test_concurrent_retries_are_answered_once_and_stored_once(bot_on: Components) -> None:
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    message = Incoming(info.id, "hello", client_message_id="retry-1")
    answers = await asyncio.gather(*(bot_on.pipeline.handle(message) for _ in range(5)))
    assert all(answer == answers[0] for answer in answers)
    transcript = await bot_on.store.transcript(info.id)
    assert [m.direction for m in transcript].count("in") == 1
    assert len(transcript) == 1 + len(answers[0])


async def test_a_chat_opens_one_conversation_even_when_raced(bot_on: Components) -> None:
    opened = await asyncio.gather(
        *(bot_on.store.open_chat(Channel.TELEGRAM, "-100123", language_hint="de") for _ in range(4))
    )
    assert len({info.id for info in opened}) == 1
    assert (await bot_on.store.open_chat(Channel.TELEGRAM, "-100123")).id == opened[0].id
    assert (await bot_on.store.open_chat(Channel.TELEGRAM, "42")).id != opened[0].id


def test_the_migrations_match_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    upgrade(database_url)
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


async def test_a_verified_token_is_checked_again_without_a_query(bot_on: Components) -> None:
    info, token = await bot_on.store.create_conversation(Channel.WEB)
    assert bot_on.read_engine is not None
    # another process: a store of its own on the same database, which has not seen it
    other = Store(bot_on.engine, bot_on.read_engine)
    queries: list[str] = []

    def count(*args: object) -> None:
        queries.append(str(args[2]))

    event.listen(bot_on.read_engine.sync_engine, "before_cursor_execute", count)
    try:
        with pytest.raises(InvalidToken):  # a wrong token first: nothing is kept
            await other.verify_token(info.id, token[:-1] + "x")
        await other.verify_token(info.id, token)
        assert len(queries) == 2
        await other.verify_token(info.id, token)
        with pytest.raises(InvalidToken):
            await other.verify_token(info.id, "not-the-token")
        with pytest.raises(InvalidToken):
            await other.verify_token(info.id, None)
        assert len(queries) == 2
        with pytest.raises(ConversationNotFound):
            await other.verify_token("no-such-id", token)
        # the store that created the conversation knows its token's hash from the start
        queries.clear()
        await bot_on.store.verify_token(info.id, token)
        for wrong in ("not-the-token", None):
            with pytest.raises(InvalidToken):
                await bot_on.store.verify_token(info.id, wrong)
        assert queries == []
    finally:
        event.remove(bot_on.read_engine.sync_engine, "before_cursor_execute", count)


async def test_answering_messages_keeps_no_objects_per_message(bot_on: Components) -> None:
    """A process answers for months: what a message leaves behind must not pile up.

    A replay peek built per message once kept a select statement (about 70 objects, 8 KB)
    for every message that came with a client message id.
    """
    texts = ("Hello", "Where is my order ORD2025000103?", "How do refunds work?", "thanks")

    async def conversations(count: int) -> None:
        for _ in range(count):
            info, _ = await bot_on.store.create_conversation(Channel.WEB)
            for n, text in enumerate(texts * 2):
                await bot_on.pipeline.handle(Incoming(info.id, text, client_message_id=f"m{n}"))

    await conversations(3)  # warm every cache
    gc.collect()
    before = len(gc.get_objects())
    await conversations(10)  # 80 more messages
    gc.collect()
    assert len(gc.get_objects()) - before < 300


def test_peek_statements_are_built_once_per_set_and_bounded() -> None:
    from sqlalchemy import literal, select

    from bot.storage import store

    fixed = {"one": select(literal(1)).scalar_subquery()}
    assert store._peek(fixed) is store._peek(dict(fixed))
    for n in range(store.PEEK_CACHE_SIZE + 8):  # a caller building new queries each time
        store._peek({"n": select(literal(n)).scalar_subquery()})
    assert len(store._PEEKS) <= store.PEEK_CACHE_SIZE


async def test_only_a_message_that_needs_the_orm_opens_a_session(
    bot_on: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most messages need no ORM session: opening, flushing and closing one cost CPU."""
    from bot.storage import store

    opened: list[object] = []

    class Counted(store.AsyncSession):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            opened.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(store, "AsyncSession", Counted)
    info, _ = await bot_on.store.create_conversation(Channel.WEB)
    for n, text in enumerate(("Hello", "When is the live chat open?", "thanks")):
        assert await bot_on.pipeline.handle(Incoming(info.id, text, f"m{n}"))
    assert opened == []
    await bot_on.pipeline.handle(Incoming(info.id, "Where is my order ORD2025000103?", "m9"))
    assert opened == []  # no customer to read: the audit row goes with the turn's connection
    known, _ = await bot_on.store.create_conversation(Channel.WEB, customer_ref="C-1001")
    await bot_on.pipeline.handle(Incoming(known.id, "Where is my order ORD2025000103?", "m9"))
    assert len(opened) == 1  # the lookup reads the signed-in customer through it


def orphan_message(text: str) -> Insert:
    """An insert the database refuses: a message of a conversation that does not exist."""
    return insert(Message).values(
        conversation_id="no-such-conversation",
        direction="in",
        sender="customer",
        text=text,
        created_at=datetime.now(UTC),
    )


async def test_a_database_error_does_not_quote_what_the_customer_wrote(
    bot_on: Components,
) -> None:
    """An error's text may reach the log: it names the statement, not its parameters."""
    orphan = orphan_message("call me on +852 9195 0500 or jane.doe@example.com")
    with pytest.raises(IntegrityError) as raised:
        async with bot_on.engine.begin() as connection:
            await connection.execute(orphan)
    assert "INSERT INTO messages" in str(raised.value)
    assert "jane.doe" not in str(raised.value) and "9195" not in str(raised.value)


@pytest.mark.postgres
async def test_a_read_on_a_connection_the_server_dropped_runs_again_on_a_new_one(
    postgres_url: str,
    settings: Settings,
    parts,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The read engine pings no connection it takes from its pool (a round trip each).

    A read whose pooled connection is dead (the server restarted, or an administrator
    ended it) still succeeds: it runs once more on a new connection.
    """
    name = f"reads-{uuid.uuid4().hex[:8]}"
    url = f"{postgres_url}&application_name={name}"
    shop = await build_bot(replace(settings, database_url=url), parts)
    reader = shop.read_engine
    assert reader is not None
    pings: list[object] = []
    ping = reader.sync_engine.dialect.do_ping
    monkeypatch.setattr(reader.sync_engine.dialect, "do_ping", lambda c: pings.append(c) or ping(c))
    try:
        info, token = await shop.store.create_conversation(Channel.WEB)
        chat = await shop.store.open_chat(Channel.TELEGRAM, "4711")
        reads: dict[str, Callable[[], Awaitable[object]]] = {
            "ping": shop.store.ping,
            "token": lambda: Store(shop.engine, reader).authenticate(info.id, token),
            "chat": lambda: shop.store.open_chat(Channel.TELEGRAM, "4711"),
            "transcript": lambda: shop.store.transcript(info.id),
            "order": lambda: shop.orders.get("ORD0000001"),
            "queue": lambda: db.read_session(
                reader, lambda session: tickets.queue_figures(session, datetime.now(UTC))
            ),
        }
        expected: dict[str, object] = {
            "ping": None,
            "token": info,
            "chat": chat,
            "transcript": [],
            "order": None,
            "queue": ({}, 0),
        }
        for what, read in reads.items():
            assert await read() == expected[what]  # its connection is back in the pool
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                ended = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    (name,),
                ).fetchone()
            assert ended is not None and ended[0] >= 1
            caplog.clear()
            assert await read() == expected[what], what
            dead = [r for r in caplog.records if "was dead" in r.getMessage()]
            assert len(dead) == 1, what
        assert pings == []
    finally:
        await shop.close()
