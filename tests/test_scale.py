"""Two app processes on one PostgreSQL behave as one bot.

Real ``python -m bot serve`` processes; Telegram in webhook mode behind either process
(a load balancer may send each update to any of them), against the fake Bot API.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.telegram import SECRET_HEADER
from tests.fake_bot_api import TOKEN, FakeBotApi, user
from tests.processes import bots

pytestmark = pytest.mark.postgres


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


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
