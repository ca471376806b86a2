"""Two app processes on one PostgreSQL behave as one bot.

Real ``python -m bot serve`` processes; Telegram in webhook mode behind either process
(a load balancer may send each update to any of them), against the fake Bot API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.telegram import SECRET_HEADER
from tests.fake_bot_api import TOKEN, FakeBotApi, user
from tests.processes import (
    add_agent,
    agent_session,
    answer_next_ticket,
    bots,
    listen,
    say,
    wait_for,
)

pytestmark = pytest.mark.postgres


def test_telegram_webhook_updates_go_to_either_process_and_the_conversation_goes_on(
    postgres_url: str, nlu_model_path: Path, parts: Any
) -> None:
    fake = FakeBotApi()
    fake.start()
    secret = "scale-test-secret"
    env = {
        "DATABASE_URL": postgres_url,
        "NLU_MODEL_PATH": str(nlu_model_path),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": secret,
    }
    try:
        with bots(1, env) as (first,), bots(1, env) as (second,):
            assert len(fake.requests("setWebhook")) == 2
            customer = user(2002, language_code="en")
            german = fake.text(
                "Guten Tag, wie lautet die E-Mail-Adresse des Supports?", sender=customer
            )
            hotline = fake.text("Und die Hotline?", sender=customer)
            for expected, (process, update) in enumerate(((first, german), (second, hotline)), 1):
                answer = httpx.post(
                    f"{process.url}/telegram/webhook",
                    json=update,
                    headers={SECRET_HEADER: secret},
                    timeout=30,
                )
                assert answer.status_code == 200
                wait_for(lambda expected=expected: len(fake.sent()) >= expected)
            first_reply, second_reply = fake.sent()[:2]
            assert "help@xoobay.com" in first_reply["text"]
            # The second process knew the conversation's language from the database.
            assert "+852 9195 0500" in second_reply["text"]
            assert "Hotline" in second_reply["text"] and "Hongkong" in second_reply["text"]
            wrong = httpx.post(
                f"{second.url}/telegram/webhook", json=hotline, headers={SECRET_HEADER: "x"}
            )
            assert wrong.status_code == 403
    finally:
        fake.stop()


def test_events_cross_processes_to_the_customers_and_the_agents_streams(
    postgres_url: str, nlu_model_path: Path, parts: Any
) -> None:
    import os

    env = {
        "DATABASE_URL": postgres_url,
        "NLU_MODEL_PATH": str(nlu_model_path),
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "WEBCHAT_HEARTBEAT_SECONDS": "1",
    }
    with bots(1, env) as (first,), bots(1, env) as (second,):
        add_agent(env)
        created = httpx.post(f"{first.url}/api/v1/conversations", timeout=30).json()
        auth = {"Authorization": f"Bearer {created['token']}"}
        url = f"{first.url}/api/v1/conversations/{created['id']}/events"
        events, listener = listen(url, auth, until='"agent"')
        # The agent's console, served by the other process, listens for ticket changes.
        session = agent_session(second.url)
        console, console_listener = listen(
            f"{second.url}/api/v1/agent/events", session, until='{"ticket"'
        )
        asked = say(first.url, created, "I want to talk to a person")
        handoff = [r for r in asked if r["action"] == "handoff"]
        assert handoff
        console_listener.join(timeout=30)
        opened = f'data: {{"ticket": {handoff[0]["ticket"]["id"]}}}'
        assert opened in list(console.queue), list(console.queue)
        answer_next_ticket(second.url, session, "Hi, Anna here.")
        listener.join(timeout=30)
        data = [e for e in list(events.queue) if e.startswith("data:") and "Anna here" in e]
    assert data, list(events.queue)
    assert '"sender": "agent"' in data[0] or '"sender":"agent"' in data[0]
