"""Rate limits per conversation and per client address: in process and across processes."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import httpx
import pytest
import redis.asyncio as redis

from bot.config import Settings
from bot.web.limits import LocalCounter, RateLimited, RateLimits, RedisCounter
from tests.conftest import serving


async def test_a_conversation_over_its_limit_is_told_to_wait_until_the_next_window() -> None:
    now = [120.0]
    limits = RateLimits(LocalCounter(), per_conversation=2, per_address=0, clock=lambda: now[0])
    await limits.check("10.0.0.1", "c1")
    await limits.check("10.0.0.1", "c1")
    with pytest.raises(RateLimited) as refused:
        await limits.check("10.0.0.1", "c1")
    assert refused.value.scope == "conversation" and refused.value.retry_after == 60
    await limits.check("10.0.0.1", "c2")  # another conversation has its own count
    now[0] = 180.0
    await limits.check("10.0.0.1", "c1")  # a new window


@pytest.mark.redis
async def test_redis_counts_are_shared_by_every_process() -> None:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    one, two = redis.Redis.from_url(url), redis.Redis.from_url(url)
    try:
        first = RateLimits(RedisCounter(one, prefix), 0, per_address=3, clock=lambda: 60.0)
        second = RateLimits(RedisCounter(two, prefix), 0, per_address=3, clock=lambda: 60.0)
        await first.check("10.0.0.9")
        await second.check("10.0.0.9")
        await first.check("10.0.0.9")
        with pytest.raises(RateLimited):
            await second.check("10.0.0.9")
    finally:
        await one.aclose()
        await two.aclose()


def test_the_api_answers_429_with_retry_after_in_the_customers_language(
    settings: Settings,
    parts,  # type: ignore[no-untyped-def]
) -> None:
    with serving(replace(settings, rate_limit_per_conversation=2), parts) as url:
        created = httpx.post(f"{url}/api/v1/conversations", json={"locale": "de-DE"}).json()
        headers = {"Authorization": f"Bearer {created['token']}"}
        path = f"{url}/api/v1/conversations/{created['id']}/messages"
        answers = [
            httpx.post(path, json={"text": "Hallo, wie geht es?"}, headers=headers)
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "Sekunden" in refused.json()["error"]["message"]
