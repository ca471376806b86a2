"""The store: conversations and their messages, read and written in turns.

A *turn* is one customer message handled start to end inside one transaction: the
conversation row is locked (``FOR UPDATE`` on PostgreSQL; SQLite takes its write lock
at ``BEGIN IMMEDIATE``), a retried ``client_message_id`` finds the replies already
stored, and the incoming message, its replies and the new dialogue state are saved
together or not at all.

Every message goes through here, so the common path is few statements on one
connection: lock the conversation; one query for a retried message and an open ticket;
insert the message and its replies and update the conversation (only when something
changed); commit. On SQLite they run through SQLAlchemy Core; on PostgreSQL on psycopg's
connection itself, in two round trips: the BEGIN, the lock and the query; then the
writes in one statement with the COMMIT (see :mod:`bot.storage.driver`). A step's own
queries and writes go the same way (:meth:`Turn.rows`; :meth:`Turn.write`, sent with the
COMMIT): the order flow's failure count and audit row. An ORM session joins the same
transaction only when a step needs one (tickets, ratings, the order flow's rarer steps).

:meth:`Turn.record` is a turn's last step: on PostgreSQL its statement waits for the end
of the turn, to go with the COMMIT, so the turn refuses any statement after it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    RowMapping,
    ScalarSelect,
    Select,
    bindparam,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import ClauseElement, Executable

from bot.core import Action, Channel, Incoming, Outgoing
from bot.errors import ConversationNotFound, InvalidToken
from bot.storage import db
from bot.storage import driver as pg
from bot.storage.models import Base, Conversation, Customer, Message, utcnow

log = logging.getLogger(__name__)
_CONVERSATIONS = Base.metadata.tables[Conversation.__tablename__]
_MESSAGES = Base.metadata.tables[Message.__tablename__]
#: What a turn reads of its conversation.
_LOCKED = select(
    _CONVERSATIONS.c.id,
    _CONVERSATIONS.c.channel,
    _CONVERSATIONS.c.channel_chat_id,
    _CONVERSATIONS.c.customer_id,
    _CONVERSATIONS.c.language,
    _CONVERSATIONS.c.language_hint,
    _CONVERSATIONS.c.timezone,
    _CONVERSATIONS.c.state,
)
# Statements built once, with bound parameters: SQLAlchemy then reuses their cache key
# and compiled form, where building them per message cost more CPU than running them.
_LOCK = _LOCKED.where(_CONVERSATIONS.c.id == bindparam("conversation_id")).with_for_update()
#: The id of the stored message with this conversation's ``client_message_id``.
_INCOMING_ID = select(_MESSAGES.c.id).where(
    _MESSAGES.c.conversation_id == bindparam("conversation_id"),
    _MESSAGES.c.client_message_id == bindparam("client_message_id"),
)
#: The same, as a query :meth:`Store.turn` peeks at. One object for the process: its peek
#: statement is then built once (a new object per message cost a statement per message).
_REPLAY_PEEK = _INCOMING_ID.scalar_subquery()
_REPLIES_TO = (
    select(_MESSAGES).where(_MESSAGES.c.reply_to == bindparam("incoming")).order_by(_MESSAGES.c.id)
)
_INSERT_RETURNING_ID = insert(_MESSAGES).returning(_MESSAGES.c.id)
#: A new conversation, every column given (PostgreSQL, on libpq; compiled once).
_CREATE = insert(_CONVERSATIONS).values(
    {column.name: bindparam(column.name, type_=column.type) for column in _CONVERSATIONS.c}
)
_CREATE_COMPILED: list[pg.Compiled] = []
_AUTHENTICATE = select(
    _CONVERSATIONS.c.id,
    _CONVERSATIONS.c.channel,
    _CONVERSATIONS.c.language,
    _CONVERSATIONS.c.language_hint,
    _CONVERSATIONS.c.timezone,
    _CONVERSATIONS.c.channel_chat_id,
    _CONVERSATIONS.c.token_hash,
).where(_CONVERSATIONS.c.id == bindparam("conversation_id"))


async def customer_id(session: AsyncSession, ref: str) -> int:
    """Return the row id of the customer with shop id ``ref``, adding the row once.

    Two processes adding the same new customer end with one row: the loser of the
    insert race reads the winner's.
    """
    query = select(Customer.id).where(Customer.external_id == ref)
    found = await session.scalar(query)
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            row = Customer(external_id=ref)
            session.add(row)
        return row.id
    except IntegrityError:
        found = await session.scalar(query)
        if found is None:  # pragma: no cover - the unique row vanished in between
            raise
        return found


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """What callers outside a turn may know of a conversation."""

    id: str
    channel: str
    language: str | None
    language_hint: str | None
    timezone: str | None
    channel_chat_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """The conversation as a turn sees it, locked; change it with :meth:`Turn.record`."""

    id: str
    channel: str
    channel_chat_id: str | None
    customer_id: int | None
    language: str | None
    language_hint: str | None
    timezone: str | None
    state: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message of a transcript."""

    direction: str
    sender: str
    text: str
    language: str | None
    intent: str | None
    action: str | None
    id: int = 0
    sender_name: str | None = None
    suggestions: tuple[str, ...] = ()


def _info(row: Conversation) -> ConversationInfo:
    return ConversationInfo(
        row.id, row.channel, row.language, row.language_hint, row.timezone, row.channel_chat_id
    )


class _StoredRow(Protocol):
    """A stored message: an ORM ``Message`` or a Core row of ``messages``."""

    id: int
    direction: str
    sender: str
    text: str
    language: str | None
    intent: str | None
    action: str | None
    payload: dict[str, object] | None


def _outgoing(row: _StoredRow) -> Outgoing:
    payload = row.payload or {}
    suggestions = payload.get("suggestions", [])
    return Outgoing(
        text=row.text,
        language=row.language or "en",
        intent=row.intent,
        action=Action(row.action or Action.ANSWER),
        suggestions=tuple(str(s) for s in suggestions) if isinstance(suggestions, list) else (),
        sender=row.sender,
        sender_name=str(payload["sender_name"]) if payload.get("sender_name") else None,
        details=dict(details) if isinstance(details := payload.get("details"), dict) else {},
    )


def stored_message(row: Message) -> StoredMessage:
    """A transcript's view of a stored message (with an agent's name and quick replies)."""
    reply = _outgoing(row) if row.direction == "out" else None
    return StoredMessage(
        row.direction,
        row.sender,
        row.text,
        row.language,
        row.intent,
        row.action,
        id=row.id,
        sender_name=reply.sender_name if reply else None,
        suggestions=reply.suggestions if reply else (),
    )


def reply_payload(reply: Outgoing) -> dict[str, object] | None:
    """What a stored reply keeps beyond its text: quick replies, sender name, details."""
    payload: dict[str, object] = {}
    if reply.suggestions:
        payload["suggestions"] = list(reply.suggestions)
    if reply.sender_name:
        payload["sender_name"] = reply.sender_name
    if reply.details:
        payload["details"] = dict(reply.details)
    return payload or None


class Turn:
    """One message's transaction; see the module docstring."""

    def __init__(
        self,
        connection: AsyncConnection | pg.Checkout,
        conversation: ConversationRow,
        peeked: Mapping[str, Any] | None = None,
        replay_checked: str | None = None,
    ) -> None:
        # PostgreSQL: the pooled connection, used through psycopg; SQLite: SQLAlchemy's
        self._checkout = connection if isinstance(connection, pg.Checkout) else None
        self._sqlite = None if isinstance(connection, pg.Checkout) else connection
        self._replay_checked = replay_checked
        self._session: AsyncSession | None = None
        #: PostgreSQL: :meth:`record`'s statement, sent with the COMMIT by :meth:`_finish`.
        self._pending: tuple[pg.Compiled, dict[str, Any]] | None = None
        #: PostgreSQL: what :meth:`write` was given, sent before :attr:`_pending`.
        self._later: list[tuple[pg.Compiled, dict[str, Any]]] = []
        self._recorded = False
        self.conversation = conversation
        #: The values of the scalar queries the caller asked :meth:`Store.turn` to peek
        #: at (with the lock held), by name.
        self.peeked: dict[str, Any] = dict(peeked or {})

    @property
    def _connection(self) -> AsyncConnection:
        """SQLAlchemy's connection in the turn's transaction (on PostgreSQL built on use)."""
        if self._checkout is not None:
            return self._checkout.connection
        assert self._sqlite is not None
        return self._sqlite

    @property
    def session(self) -> AsyncSession:
        """An ORM session in the turn's transaction: what a step writes commits with it."""
        self._open()
        if self._session is None:
            self._session = AsyncSession(bind=self._connection, expire_on_commit=False)
        return self._session

    @property
    def state(self) -> dict[str, Any]:
        """The dialogue state as stored (a copy: write it back with :meth:`record`)."""
        return dict(self.conversation.state or {})

    async def replay(self, client_message_id: str | None) -> list[Outgoing] | None:
        """Return the replies already stored for a retried message, else ``None``."""
        self._open()
        if client_message_id is None:
            return None
        if self._replay_checked == client_message_id:
            incoming_id = self.peeked.get(REPLAY)
        else:
            params = {
                "conversation_id": self.conversation.id,
                "client_message_id": client_message_id,
            }
            incoming_id = await self._connection.scalar(_INCOMING_ID, params)
        if incoming_id is None:
            return None
        if self._session is not None:
            await self._session.flush()
        rows = await self._connection.execute(_REPLIES_TO, {"incoming": incoming_id})
        return [_outgoing(row) for row in rows]

    async def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a query of a step in the turn's transaction; return its rows.

        On PostgreSQL it runs on psycopg (see :mod:`bot.storage.driver`), compiled once
        per statement object: pass a statement built once, with named bind parameters
        (no expanding ``IN``). What the ORM session holds is flushed first.
        """
        self._open()
        if self._session is not None:
            await self._session.flush()
        if self._checkout is not None:
            return await pg.all_rows(self._checkout, self._compiled(statement), params)
        return [tuple(row) for row in await self._connection.execute(statement, params)]

    async def write(self, statement: Executable, params: Mapping[str, Any]) -> None:
        """Write in the turn's transaction, at the latest with the turn's last statements.

        For a write nothing in the turn reads back (an audit row): on PostgreSQL it waits
        and goes in the round trip of :meth:`record`'s statement and the COMMIT (it is
        lost with the turn if the turn fails, as any write of it); elsewhere it runs now.
        The same rules as for :meth:`rows` apply to ``statement``.
        """
        self._open()
        if self._checkout is not None:
            self._later.append((self._compiled(statement), dict(params)))
            return
        await self._connection.execute(statement, params)

    def _compiled(self, statement: Executable) -> pg.Compiled:
        assert self._checkout is not None and isinstance(statement, ClauseElement)
        known = _STEP_STATEMENTS.get(id(statement))
        if known is None or known[0] is not statement:
            known = (statement, pg.compile_for(statement, self._checkout.dialect))
            _STEP_STATEMENTS[id(statement)] = known
        return known[1]

    async def save_state(self, state: dict[str, Any]) -> None:
        """Replace the dialogue state (a step that writes state without a message)."""
        await self._update(state=state)

    async def record(
        self,
        incoming: Incoming,
        *,
        language: str,
        intent: str | None,
        replies: list[Outgoing],
        state: dict[str, Any],
    ) -> None:
        """Save the incoming message, its replies and the new state in the transaction.

        The turn's last step: no statement may follow it (see the module docstring).
        """
        self._open()
        conversation = self.conversation
        changes: dict[str, Any] = {}
        if language != conversation.language:
            changes["language"] = language
        if state != dict(conversation.state or {}):
            changes["state"] = state
        if incoming.language_hint and incoming.language_hint != conversation.language_hint:
            changes["language_hint"] = incoming.language_hint
        if incoming.timezone and incoming.timezone != conversation.timezone:
            changes["timezone"] = incoming.timezone
        if self._session is not None:
            await self._session.flush()
        now = utcnow()
        received_row: dict[str, Any] = {
            "conversation_id": conversation.id,
            "direction": "in",
            "sender": "customer",
            "text": incoming.text,
            "language": language,
            "intent": intent,
            "action": replies[0].action.value if replies else None,
            "client_message_id": incoming.client_message_id,
            "created_at": now,
        }
        reply_rows: list[dict[str, Any]] = [
            {
                "conversation_id": conversation.id,
                "direction": "out",
                "sender": reply.sender,
                "text": reply.text,
                "language": reply.language,
                "intent": reply.intent,
                "action": reply.action.value,
                "payload": reply_payload(reply),
                "created_at": now,
            }
            for reply in replies
        ]
        if self._checkout is not None:
            # one statement, sent with the COMMIT: the message, its replies, the conversation
            params = {f"m_{k}": v for k, v in received_row.items()}
            for n, row in enumerate(reply_rows):
                params |= {f"r{n}_{k}": v for k, v in row.items()}
            params |= {f"c_{k}": v for k, v in changes.items()}
            params["conversation"], params["now"] = conversation.id, now
            shape = (len(reply_rows), tuple(sorted(changes)))
            compiled = _WRITES.get(shape)
            if compiled is None:
                statement = _write_turn(*shape)
                compiled = _WRITES[shape] = pg.compile_for(statement, self._checkout.dialect)
            self._pending = (compiled, params)
            self._changed(changes)
            self._recorded = True
            return
        received = await self._connection.scalar(_INSERT_RETURNING_ID, received_row)
        if reply_rows:
            await self._connection.execute(
                insert(_MESSAGES), [row | {"reply_to": received} for row in reply_rows]
            )
        if changes:
            await self._update(**changes)
        self._recorded = True

    async def _update(self, **changes: Any) -> None:
        self._open()
        await self._connection.execute(
            update(_CONVERSATIONS)
            .where(_CONVERSATIONS.c.id == self.conversation.id)
            .values(**changes, updated_at=utcnow())
        )
        self._changed(changes)

    def _changed(self, changes: dict[str, Any]) -> None:
        if changes:
            values = {f: getattr(self.conversation, f) for f in ConversationRow.__slots__}
            self.conversation = ConversationRow(**(values | changes))

    def _open(self) -> None:
        if self._recorded:
            raise RuntimeError("a turn takes no statement after record()")

    async def _finish(self) -> None:
        """Write what the ORM session holds and close it; on PostgreSQL, write and commit.

        On PostgreSQL :meth:`record`'s statement and the COMMIT go in one round trip; the
        transaction's own commit then has nothing left to do. Elsewhere (and when nothing
        was recorded) the transaction commits as usual after this.
        """
        if self._session is not None:
            await self._session.flush()
            await self._session.close()
        statements, self._later = self._later, []
        if self._pending is not None:
            statements.append(self._pending)
            self._pending = None
        if statements:
            assert self._checkout is not None
            await pg.first_rows(self._checkout, statements, commit=True)


_MESSAGE_FIELDS = (
    "conversation_id",
    "direction",
    "sender",
    "text",
    "language",
    "intent",
    "action",
    "created_at",
)


_RECEIVED_FIELDS = (*_MESSAGE_FIELDS, "client_message_id")


#: The statements of steps (:meth:`Turn.rows`, :meth:`Turn.write`) compiled for psycopg,
#: by the statement's id (each kept beside its compiled form, so the id stays its own).
_STEP_STATEMENTS: dict[int, tuple[ClauseElement, pg.Compiled]] = {}

#: :func:`_write_turn`'s statements compiled for psycopg, by shape (a few dozen at most).
_WRITES: dict[tuple[int, tuple[str, ...]], pg.Compiled] = {}


def _write_turn(replies: int, changes: tuple[str, ...]) -> Select[Any]:
    """PostgreSQL: insert a message and its replies and update the conversation at once.

    Data-modifying CTEs: the replies take the message's new id as ``reply_to`` (the
    foreign key is checked at the end of the statement), in their order. One statement
    per shape (number of replies, changed columns), its parameters named ``m_<column>``
    (the message), ``r<n>_<column>`` (reply n), ``c_<column>`` (the conversation's new
    values), ``conversation`` and ``now``.
    """
    m = _MESSAGES.c
    received = (
        insert(_MESSAGES)
        .values(
            {
                f: bindparam(f"m_{f}", type_=m[f].type)
                for f in (*_MESSAGE_FIELDS, "client_message_id")
            }
        )
        .returning(m.id)
        .cte("received")
    )
    writes = []
    if replies:
        fields = (*_MESSAGE_FIELDS, "payload")
        rows = union_all(
            *(
                select(
                    literal(n).label("n"),
                    *(bindparam(f"r{n}_{f}", type_=m[f].type).label(f) for f in fields),
                    received.c.id.label("reply_to"),
                )
                for n in range(replies)
            )
        ).subquery("replies")
        columns = [*fields, "reply_to"]
        ordered = select(*(rows.c[c] for c in columns)).order_by(rows.c.n)
        writes.append(insert(_MESSAGES).from_select(columns, ordered).cte("replied"))
    if changes:
        c = _CONVERSATIONS.c
        changed = (
            update(_CONVERSATIONS)
            .where(c.id == bindparam("conversation"))
            .values(
                {f: bindparam(f"c_{f}", type_=c[f].type) for f in changes}
                | {"updated_at": bindparam("now", type_=c.updated_at.type)}
            )
        )
        writes.append(changed.returning(c.id).cte("changed"))
    return select(received.c.id).add_cte(*writes)


#: How many verified conversations' token hashes a process keeps (:meth:`Store.verify_token`).
TOKEN_CACHE_SIZE = 10_000
#: :attr:`Turn.peeked`'s name for the id of the retried message, if it was stored.
REPLAY = "store.replay"
#: At most this many peek statements are kept (callers pass a handful of fixed sets).
PEEK_CACHE_SIZE = 32


class _Peek:
    """The one select of a set of scalar queries (and, once run on PostgreSQL, its SQL)."""

    __slots__ = ("compiled", "queries", "statement")

    def __init__(self, queries: Mapping[str, ScalarSelect[Any]]) -> None:
        self.queries = dict(queries)  # kept: an id in the cache's key stays theirs
        self.statement = select(*(q.label(f"p{i}") for i, q in enumerate(queries.values())))
        self.compiled: pg.Compiled | None = None


_PEEKS: dict[tuple[tuple[str, int], ...], _Peek] = {}


def _peek(queries: Mapping[str, ScalarSelect[Any]]) -> _Peek:
    """One select of the scalar ``queries``, built once per set of query objects.

    The cache holds the query objects with their statement, so that an id in its key is
    never reused by another object; it keeps the last ``PEEK_CACHE_SIZE`` sets, should a
    caller build new query objects per message.
    """
    key = tuple((name, id(query)) for name, query in queries.items())
    cached = _PEEKS.pop(key, None)
    if cached is None:
        cached = _Peek(queries)
        if len(_PEEKS) >= PEEK_CACHE_SIZE:
            del _PEEKS[next(iter(_PEEKS))]  # the least recently used
    _PEEKS[key] = cached  # last: the most recently used
    return cached


_LOCK_COMPILED: list[pg.Compiled] = []  # _LOCK for psycopg, once compiled


async def _lock_and_peek(
    checkout: pg.Checkout, peeking: _Peek | None, params: dict[str, Any]
) -> tuple[Any, tuple[Any, ...]]:
    """PostgreSQL: lock the conversation, then peek, in one round trip (see driver.py)."""
    if not _LOCK_COMPILED:
        _LOCK_COMPILED.append(pg.compile_for(_LOCK, checkout.dialect))
    statements = [(_LOCK_COMPILED[0], params)]
    if peeking is not None:
        if peeking.compiled is None:
            peeking.compiled = pg.compile_for(peeking.statement, checkout.dialect)
        statements.append((peeking.compiled, params))
    rows = await pg.first_rows(checkout, statements, begin=True)
    return rows[0], (tuple(rows[1] or ()) if peeking is not None else ())


def _found_unprepared(error: DBAPIError) -> bool:
    """Whether ``error`` says the turn's prepared statements were dropped from its connection.

    Something else on the connection ran ``DEALLOCATE ALL`` or ``DISCARD ALL``; the
    connection forgot its statements then (see driver.py) and prepares them again.
    """
    if getattr(error.orig, "sqlstate", None) == pg.NO_SUCH_STATEMENT:
        log.warning("a pooled connection's prepared statements were dropped: retrying")
        return True
    return False


class Store:
    """Conversations and messages in the database behind ``engine``."""

    def __init__(self, engine: AsyncEngine, read_engine: AsyncEngine | None = None) -> None:
        """Store in ``engine``'s database.

        Args:
            engine: Writes go here (on SQLite its transactions take the write lock at BEGIN).
            read_engine: Pure reads (authentication, transcripts) go here: on SQLite an
                engine that begins deferred, so a read never waits for a writer (WAL).
        """
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._read_engine = read_engine or engine
        # SQLite has one writer at a time: turns of this process queue here, in order,
        # instead of polling SQLite's busy handler (which sleeps between retries and
        # gave a p99 near a second with ten concurrent conversations).
        sqlite = engine.dialect.name == "sqlite"
        self._token_hashes: dict[str, str] = {}  # conversation id -> verified token's hash
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if sqlite else None

    async def create_conversation(
        self,
        channel: Channel,
        *,
        language_hint: str | None = None,
        timezone: str | None = None,
        channel_chat_id: str | None = None,
        customer_ref: str | None = None,
    ) -> tuple[ConversationInfo, str]:
        """Start a conversation; return it and its bearer token (stored only hashed).

        ``customer_ref`` (the shop's customer id, already verified) links the
        conversation to that customer, who is added to ``customers`` once.
        """
        token = secrets.token_urlsafe(32)
        token_hash = _hash_token(token)
        for retry in (True, False):
            row = Conversation(
                id=str(uuid.uuid4()),
                channel=channel.value,
                channel_chat_id=channel_chat_id,
                token_hash=token_hash,
                language_hint=language_hint,
                timezone=timezone,
                state={},
            )
            try:
                if customer_ref is None and self._engine.dialect.name == "postgresql":
                    await self._insert_conversation(row)
                else:
                    async with self._sessions.begin() as session:
                        if customer_ref is not None:
                            row.customer_id = await customer_id(session, customer_ref)
                        session.add(row)
            except DBAPIError as error:
                if retry and db.found_disconnected(error):
                    continue
                raise
            break
        self._remember(row.id, token_hash)  # its first message needs no query for the token
        return _info(row), token

    async def _insert_conversation(self, row: Conversation) -> None:
        """PostgreSQL: insert ``row`` in one statement of its own, on libpq (driver.py).

        Every column is given (the model's Python-side defaults are not applied there).
        """
        if not _CREATE_COMPILED:
            _CREATE_COMPILED.append(pg.compile_for(_CREATE, self._engine.dialect))
        now = utcnow()
        values = {column.name: getattr(row, column.name) for column in _CONVERSATIONS.c}
        values |= {"created_at": now, "updated_at": now}
        async with await pg.Checkout.take(self._engine) as checkout:  # autocommit: one trip
            await pg.first_rows(checkout, [(_CREATE_COMPILED[0], values)])

    async def open_chat(
        self, channel: Channel, chat_id: str, *, language_hint: str | None = None
    ) -> ConversationInfo:
        """Return the conversation of a channel's chat (a Telegram chat), creating it once.

        Two processes opening the same new chat at once end with one conversation: the
        loser of the insert race reads the winner's row.
        """
        query = select(Conversation).where(
            Conversation.channel == channel.value, Conversation.channel_chat_id == chat_id
        )
        row = await db.read_session(self._read_engine, lambda session: session.scalar(query))
        if row is not None:
            return _info(row)
        try:
            info, _ = await self.create_conversation(
                channel, language_hint=language_hint, channel_chat_id=chat_id
            )
            return info
        except IntegrityError:
            async with self._sessions() as session:
                row = await session.scalar(query)
            if row is None:  # pragma: no cover - the unique row vanished in between
                raise
            return _info(row)

    async def ping(self) -> None:
        """Run ``SELECT 1``; raises when the database cannot be reached."""
        await db.read(self._read_engine, lambda connection: connection.execute(text("SELECT 1")))

    async def authenticate(self, conversation_id: str, token: str | None) -> ConversationInfo:
        """Return the conversation if ``token`` is its bearer token.

        Raises:
            ConversationNotFound: No conversation has that id.
            InvalidToken: The token is missing or wrong.
        """
        found = await self._conversation_row(conversation_id)
        if found is None:
            raise ConversationNotFound(conversation_id)
        info, token_hash = found
        self._check(conversation_id, token_hash, token)
        return info

    async def conversation(self, conversation_id: str) -> ConversationInfo | None:
        """Return what is known of a conversation (no token asked: for server-side use)."""
        found = await self._conversation_row(conversation_id)
        return found[0] if found is not None else None

    async def _conversation_row(
        self, conversation_id: str
    ) -> tuple[ConversationInfo, str | None] | None:
        params = {"conversation_id": conversation_id}

        async def first(connection: AsyncConnection) -> RowMapping | None:
            return (await connection.execute(_AUTHENTICATE, params)).mappings().first()

        c = await db.read(self._read_engine, first)
        if c is None:
            return None
        info = ConversationInfo(
            c["id"],
            c["channel"],
            c["language"],
            c["language_hint"],
            c["timezone"],
            c["channel_chat_id"],
        )
        return info, c["token_hash"]

    async def verify_token(self, conversation_id: str, token: str | None) -> None:
        """Check that ``token`` is the conversation's bearer token.

        A conversation's token never changes, so the hashes of tokens verified once are
        kept (the last 10,000 conversations) and a later request costs no query.

        Raises:
            ConversationNotFound: No conversation has that id.
            InvalidToken: The token is missing or wrong.
        """
        expected = self._token_hashes.get(conversation_id)
        if expected is None:
            await self.authenticate(conversation_id, token)
            return
        self._check(conversation_id, expected, token)

    def _check(self, conversation_id: str, expected: str | None, token: str | None) -> None:
        if not token or not hmac.compare_digest(_hash_token(token), expected or ""):
            raise InvalidToken(conversation_id)
        self._remember(conversation_id, expected or "")

    def _remember(self, conversation_id: str, token_hash: str) -> None:
        """Keep a conversation's token hash (known good) for :meth:`verify_token`."""
        hashes = self._token_hashes
        if conversation_id not in hashes:
            if len(hashes) >= TOKEN_CACHE_SIZE:
                del hashes[next(iter(hashes))]  # the oldest
            hashes[conversation_id] = token_hash

    @asynccontextmanager
    async def turn(
        self,
        conversation_id: str,
        client_message_id: str | None = None,
        peek: Mapping[str, ScalarSelect[Any]] | None = None,
    ) -> AsyncIterator[Turn]:
        """Lock a conversation for one message; commit on success, roll back on error.

        With the lock held, one query looks whether ``client_message_id`` was stored
        already (for :meth:`Turn.replay`) and runs the ``peek`` scalar queries (their
        values in :attr:`Turn.peeked`). A peek query names the conversation with
        ``bindparam("conversation_id")``; pass the same query objects every time (the
        statement is built once per set).

        Raises:
            ConversationNotFound: No conversation has that id.
        """
        params = {"conversation_id": conversation_id, "client_message_id": client_message_id}
        queries = dict(peek or {})
        if client_message_id is not None:
            queries[REPLAY] = _REPLAY_PEEK
        peeking = _peek(queries) if queries else None
        async with self._write_lock or nullcontext(), AsyncExitStack() as stack:
            connection, found, values = await self._begin_locked(stack, peeking, params)
            if found is None:
                raise ConversationNotFound(conversation_id)
            peeked: dict[str, Any] = (
                dict(zip(queries, values, strict=True)) if peeking is not None else {}
            )
            row = ConversationRow(*found)
            turn = Turn(connection, row, peeked, client_message_id)
            yield turn
            await turn._finish()

    async def _begin_locked(
        self, stack: AsyncExitStack, peeking: _Peek | None, params: dict[str, Any]
    ) -> tuple[AsyncConnection | pg.Checkout, Any, tuple[Any, ...]]:
        """Begin a turn's transaction (ended with ``stack``), lock and peek.

        On PostgreSQL the turn takes a pooled connection for psycopg (see driver.py); on
        SQLite a connection of SQLAlchemy's, in ``engine.begin()``.

        The lock is the transaction's first statement, so when it finds the pooled
        connection dead (the database restarted since it was last used) nothing has been
        done yet: SQLAlchemy renews the pool, and the turn begins once more on a new
        connection instead of failing a customer's message on a database that is back.
        """
        postgresql = self._engine.dialect.name == "postgresql"
        for retry in (True, False):
            scope = AsyncExitStack()
            connection: AsyncConnection | pg.Checkout
            values: tuple[Any, ...] = ()
            try:
                if postgresql:
                    taken = await pg.Checkout.take(self._engine)
                    connection = checkout = await scope.enter_async_context(taken)
                    found, values = await _lock_and_peek(checkout, peeking, params)
                else:
                    connection = await scope.enter_async_context(self._engine.begin())
                    found = (await connection.execute(_LOCK, params)).first()
                    if found is not None and peeking is not None:
                        values = (await connection.execute(peeking.statement, params)).one()
            except BaseException as error:
                await scope.__aexit__(type(error), error, error.__traceback__)
                if (
                    retry
                    and isinstance(error, DBAPIError)
                    and (db.found_disconnected(error) or _found_unprepared(error))
                ):
                    continue
                raise
            stack.push_async_exit(scope)
            return connection, found, values
        raise AssertionError("unreachable")

    async def transcript(self, conversation_id: str, limit: int = 200) -> list[StoredMessage]:
        """Return the last ``limit`` messages of a conversation, oldest first."""
        query = (
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )

        async def newest(session: AsyncSession) -> Sequence[Message]:
            return (await session.scalars(query)).all()

        rows = await db.read_session(self._read_engine, newest)
        return [stored_message(row) for row in reversed(rows)]
