"""Request rate limits of the web APIs: per client address, per conversation, per agent login.

Fixed one-minute windows. With ``REDIS_URL`` the counts live in Redis, so every app
process enforces the same limit; without it, each process counts alone (one process is
the default deployment). A limit of 0 turns that limit off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # redis is imported by the app only when REDIS_URL is set
    import redis.asyncio as redis

WINDOW_SECONDS = 60


class RateLimited(Exception):
    """Too many requests; retry after ``retry_after`` seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"rate limit of the {scope} reached")
        self.scope, self.retry_after = scope, retry_after


class Counter(Protocol):
    """Counts hits of a key within the current window."""

    async def hit(self, key: str, window: int) -> int:
        """Count one hit of ``key`` in ``window`` and return the window's count."""


class LocalCounter:
    """In-process counts (one process)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._counts: dict[str, int] = {}
        self._window = -1
        self._clock = clock

    async def hit(self, key: str, window: int) -> int:
        """Count one hit of ``key``; a new window forgets the old counts."""
        if window != self._window:
            self._counts.clear()
            self._window = window
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key]


class RedisCounter:
    """Counts shared by every process, in Redis (``INCR`` + ``EXPIRE``)."""

    def __init__(self, client: redis.Redis, prefix: str = "xoobay:rate:") -> None:
        self._client = client
        self._prefix = prefix

    async def hit(self, key: str, window: int) -> int:
        """Count one hit of ``key`` in ``window``."""
        name = f"{self._prefix}{window}:{key}"
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return int(count)


class RateLimits:
    """The API's limits: messages per conversation, requests per client address."""

    def __init__(
        self,
        counter: Counter,
        per_conversation: int,
        per_address: int,
        per_login: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._counter = counter
        self.per_conversation = per_conversation
        self.per_address = per_address
        self.per_login = per_login
        self._clock = clock

    async def check(self, address: str | None, conversation_id: str | None = None) -> None:
        """Count one request; raise :class:`RateLimited` when a limit is passed."""
        if self.per_address and address:
            await self._hit("address", f"ip:{address}", self.per_address)
        if self.per_conversation and conversation_id:
            await self._hit(
                "conversation", f"conversation:{conversation_id}", self.per_conversation
            )

    async def check_login(self, address: str | None, login: str) -> None:
        """Count one agent log-in attempt (per address, and per login name, right or wrong).

        Checked before the password is: a guesser gets ``per_login`` tries a minute per
        name, however many addresses it uses, and costs the server no more hashing.
        """
        await self.check(address)
        if self.per_login:  # the name as the agent directory reads it
            await self._hit("login", "login:" + login.strip().lower(), self.per_login)

    async def _hit(self, scope: str, key: str, limit: int) -> None:
        """Count one hit of ``key`` in this window; past ``limit``, raise :class:`RateLimited`."""
        now = self._clock()
        if await self._counter.hit(key, int(now // WINDOW_SECONDS)) > limit:
            raise RateLimited(scope, max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS)))
