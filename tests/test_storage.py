"""Storage on SQLite and PostgreSQL: migrations, tokens, turns and idempotent retries."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Insert, create_engine, event, insert, inspect
from sqlalchemy.exc import IntegrityError

from bot.app import Components
from bot.core import Action, Channel, Incoming, Outgoing
from bot.errors import ConversationNotFound, InvalidToken
from bot.storage.db import downgrade, sync_url, upgrade
from bot.storage.models import Message
from bot.storage.store import Store


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
    assert len(opened) == 1  # the lookup reads the customer and writes its audit through it


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
