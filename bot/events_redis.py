"""The event bus across processes: Redis pub/sub.

Every app process publishes a conversation's events on the Redis channel
``<prefix>conversation:<id>``; a process holding that conversation's web chat stream (or
an agent console) is subscribed to it, so an agent's reply reaches the customer's stream
whichever process took the agent's request. :data:`bot.events.ALL` subscribes to the
pattern of every conversation. Redis keeps nothing: what is not received live is read
back from the database (the web chat fetches the transcript after a reconnect).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # redis is imported by the app only when REDIS_URL is set
    import redis.asyncio as redis

from bot.events import ALL, ConversationEvent

log = logging.getLogger(__name__)


class RedisEventBus:
    """Publishes and receives conversation events through a Redis server."""

    def __init__(self, client: redis.Redis, prefix: str = "xoobay:") -> None:
        """Publish and subscribe through ``client`` (its owner closes it)."""
        self._client = client
        self._prefix = prefix

    def channel(self, conversation_id: str) -> str:
        """The Redis channel of ``conversation_id``."""
        return f"{self._prefix}conversation:{conversation_id}"

    async def publish(self, event: ConversationEvent) -> None:
        """Publish ``event`` to every process subscribed to its conversation."""
        body = json.dumps({"kind": event.kind, "data": event.data}, ensure_ascii=False)
        await self._client.publish(self.channel(event.conversation_id), body)

    @asynccontextmanager
    async def subscribe(
        self, conversation_id: str
    ) -> AsyncIterator[AsyncIterator[ConversationEvent]]:
        """Receive the events of ``conversation_id`` (or :data:`ALL`) while inside."""
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        if conversation_id == ALL:
            await pubsub.psubscribe(self.channel("*"))
        else:
            await pubsub.subscribe(self.channel(conversation_id))
        start = len(self.channel(""))

        async def events() -> AsyncIterator[ConversationEvent]:
            async for message in pubsub.listen():
                if message.get("type") not in ("message", "pmessage"):
                    continue
                name = message["channel"].decode()
                try:
                    body = json.loads(message["data"])
                    yield ConversationEvent(name[start:], str(body["kind"]), dict(body["data"]))
                except (ValueError, KeyError, TypeError):
                    log.warning("ignored a malformed event on %s", name)

        # redis 8.2 annotates PubSub.aclose; earlier releases left it untyped, which
        # mypy's disallow_untyped_calls refuses: a typed name serves both.
        close: Callable[[], Awaitable[None]] = pubsub.aclose
        try:
            yield events()
        finally:
            await close()
