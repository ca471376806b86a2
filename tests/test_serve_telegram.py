"""``serve`` with Telegram configured: polling and the webhook route, over real HTTP."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import httpx

from bot.config import Settings
from bot.telegram import SECRET_HEADER
from tests.conftest import serving
from tests.fake_bot_api import TOKEN, FakeBotApi


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_serve_polls_telegram_and_answers(settings: Settings, parts: Any) -> None:
    fake = FakeBotApi()
    fake.start()
    try:
        polled = replace(settings, telegram_bot_token=TOKEN, telegram_base_url=fake.base_url)
        with serving(polled, parts):
            wait_for(lambda: fake.requests("getUpdates"))
            fake.inject(fake.text("Welche E-Mail-Adresse hat der Support?"))
            wait_for(lambda: fake.sent())
            assert "help@xoobay.com" in fake.sent()[0]["text"]
    finally:
        fake.stop()


def test_the_webhook_route_checks_the_secret(settings: Settings, parts: Any) -> None:
    fake = FakeBotApi()
    fake.start()
    try:
        hooked = replace(
            settings,
            telegram_bot_token=TOKEN,
            telegram_base_url=fake.base_url,
            telegram_webhook_url="https://bot.example/telegram/webhook",
        )
        with serving(hooked, parts) as url, httpx.Client(base_url=url, timeout=30) as http:
            assert fake.requests("setWebhook")[0].params["secret_token"] == hooked.webhook_secret
            update = fake.text("Hello, what is your hotline number?")
            wrong = http.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "nope"})
            missing = http.post("/telegram/webhook", json=update)
            assert (wrong.status_code, missing.status_code) == (403, 403)
            assert fake.sent() == []
            broken = http.post(
                "/telegram/webhook",
                content=b"{oops",
                headers={SECRET_HEADER: hooked.webhook_secret},
            )
            assert broken.status_code == 400
            right = http.post(
                "/telegram/webhook", json=update, headers={SECRET_HEADER: hooked.webhook_secret}
            )
            assert right.status_code == 200
            wait_for(lambda: fake.sent())
            assert "+852 9195 0500" in fake.sent()[0]["text"]
    finally:
        fake.stop()


def test_without_webhook_mode_the_route_is_404(server: str) -> None:
    assert httpx.post(f"{server}/telegram/webhook", json={}).status_code == 404
