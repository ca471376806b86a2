"""The Redis event bus against the Redis server of the test machine (127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import redis.asyncio as redis

from bot.events import ALL, ConversationEvent
from bot.events_redis import RedisEventBus

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
pytestmark = pytest.mark.redis


@pytest.fixture
async def buses():  # type: ignore[no-untyped-def]
    """Two buses with their own connections, as two app processes would have."""
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    clients = redis.Redis.from_url(REDIS_URL), redis.Redis.from_url(REDIS_URL)
    yield RedisEventBus(clients[0], prefix), RedisEventBus(clients[1], prefix)
    for client in clients:
        await client.aclose()


async def _listening(bus: RedisEventBus) -> None:
    await asyncio.sleep(0.2)  # the SUBSCRIBE reaches the server before anything is published


async def test_an_event_published_by_one_process_reaches_the_subscriber_of_another(
    buses,  # type: ignore[no-untyped-def]
) -> None:
    one, two = buses
    async with two.subscribe("c1") as mine, two.subscribe(ALL) as every:
        await _listening(two)
        await one.publish(
            ConversationEvent("c1", "message", {"text": "Hallo, ich bin Anna.", "sender": "agent"})
        )
        await one.publish(ConversationEvent("c2", "typing"))
        got = await asyncio.wait_for(anext(mine), 5)
        seen = [await asyncio.wait_for(anext(every), 5) for _ in range(2)]
    assert got == ConversationEvent(
        "c1", "message", {"text": "Hallo, ich bin Anna.", "sender": "agent"}
    )
    assert [(e.conversation_id, e.kind) for e in seen] == [("c1", "message"), ("c2", "typing")]


async def test_a_malformed_message_on_the_channel_is_skipped(buses) -> None:  # type: ignore[no-untyped-def]
    one, two = buses
    async with two.subscribe("c3") as events:
        await _listening(two)
        await one._client.publish(one.channel("c3"), b"not json")
        await one.publish(ConversationEvent("c3", "typing"))
        assert (await asyncio.wait_for(anext(events), 5)).kind == "typing"
