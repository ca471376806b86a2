"""Agent accounts and their sessions.

Passwords are hashed with Argon2id (``argon2-cffi``); a session token is 32 random
bytes, given to the agent once and stored only as its SHA-256, with an expiry. Every
authenticated request marks the agent as seen: an agent not seen for the offline
period is offline, and their tickets go back to the queue (:mod:`bot.handoff.desk`).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.handoff.errors import (
    AgentExists,
    AgentNotFound,
    InvalidSession,
    SessionExpired,
    WrongLogin,
)
from bot.handoff.models import Agent, AgentSession
from bot.language import normalize_tag

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so both failures take the same time.

    Made on first use: an argon2 hash costs 64 MiB and a good part of a second of CPU,
    which start-up need not pay.
    """
    return _HASHER.hash("no such agent")


def aware(moment: datetime) -> datetime:
    """Return ``moment`` with UTC attached when the database gave it back naive (SQLite)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """What the console and the CLI show of an agent."""

    id: int
    login: str
    name: str
    languages: tuple[str, ...]
    max_chats: int
    active: bool
    last_seen: datetime | None


def info(agent: Agent) -> AgentInfo:
    """The shown form of an agent row."""
    seen = aware(agent.last_seen) if agent.last_seen else None
    return AgentInfo(
        agent.id,
        agent.login,
        agent.name,
        tuple(agent.languages or ()),
        agent.max_chats,
        agent.active,
        seen,
    )


def languages_of(raw: Iterable[str]) -> list[str]:
    """Normalize language tags (``zh-TW`` → ``zh-Hant``).

    Raises:
        ValueError: A tag is not a supported language.
    """
    result: list[str] = []
    for tag in raw:
        normal = normalize_tag(tag.strip())
        if normal is None:
            raise ValueError(f"unsupported language: {tag}")
        if normal not in result:
            result.append(normal)
    if not result:
        raise ValueError("an agent needs at least one language")
    return result


class AgentDirectory:
    """Adds, lists and disables agents; logs them in and checks their sessions."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        session_lifetime: timedelta = timedelta(hours=12),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._lifetime = session_lifetime
        self._clock = clock

    async def add(
        self, login: str, name: str, password: str, languages: Iterable[str], max_chats: int = 3
    ) -> AgentInfo:
        """Create an agent.

        Raises:
            AgentExists: The login is taken.
            ValueError: A language is unsupported, the password shorter than 8, or
                ``max_chats`` below 1.
        """
        if len(password) < 8:
            raise ValueError("the password needs at least 8 characters")
        if max_chats < 1:
            raise ValueError("max chats must be at least 1")
        row = Agent(
            login=login.strip().lower(),
            name=name.strip(),
            languages=languages_of(languages),
            max_chats=max_chats,
            password_hash=_HASHER.hash(password),
            active=True,
            created_at=self._clock(),
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise AgentExists(login) from None
        return info(row)

    async def list(self) -> list[AgentInfo]:
        """Every agent, by login."""
        async with self._sessions() as session:
            rows = await session.scalars(select(Agent).order_by(Agent.login))
            return [info(row) for row in rows]

    async def disable(self, login: str) -> AgentInfo:
        """Disable an agent and end their sessions (their tickets return to the queue).

        Raises:
            AgentNotFound: No agent has that login.
        """
        async with self._sessions.begin() as session:
            row = await session.scalar(select(Agent).where(Agent.login == login.strip().lower()))
            if row is None:
                raise AgentNotFound(login)
            row.active = False
            row.last_seen = None
            await session.execute(delete(AgentSession).where(AgentSession.agent_id == row.id))
        return info(row)

    async def login(self, login: str, password: str) -> tuple[AgentInfo, str, datetime]:
        """Check the password; return the agent, a new session token and its expiry.

        Raises:
            WrongLogin: Unknown or disabled login, or wrong password.
        """
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await session.scalar(select(Agent).where(Agent.login == login.strip().lower()))
            try:
                # On a worker thread: argon2 holds the CPU for a good part of a second,
                # which the event loop must not wait for (argon2-cffi releases the GIL).
                stored = row.password_hash if row else _dummy_hash()
                await asyncio.to_thread(_HASHER.verify, stored, password)
            except (VerificationError, InvalidHashError):
                raise WrongLogin(login) from None
            if row is None or not row.active:
                raise WrongLogin(login)
            token = secrets.token_urlsafe(32)
            expires = now + self._lifetime
            session.add(
                AgentSession(
                    agent_id=row.id,
                    token_hash=_token_hash(token),
                    expires_at=expires,
                    created_at=now,
                )
            )
            row.last_seen = now
        return info(row), token, expires

    async def logout(self, token: str) -> None:
        """End the session of ``token`` (nothing happens for an unknown one)."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(AgentSession).where(AgentSession.token_hash == _token_hash(token))
            )

    async def authenticate(self, token: str | None) -> AgentInfo:
        """Return the agent of a session token and mark them as seen now.

        Raises:
            InvalidSession: The token is missing, unknown, or its agent disabled.
            SessionExpired: The session has expired.
        """
        if not token:
            raise InvalidSession("no token")
        now = self._clock()
        async with self._sessions.begin() as session:
            found = await session.scalar(
                select(AgentSession).where(AgentSession.token_hash == _token_hash(token))
            )
            if found is None:
                raise InvalidSession("unknown token")
            if aware(found.expires_at) <= now:
                raise SessionExpired("expired")
            agent = await session.get(Agent, found.agent_id)
            if agent is None or not agent.active:
                raise InvalidSession("agent disabled")
            agent.last_seen = now
        return info(agent)
