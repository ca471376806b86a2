"""Orders in Telegram over real HTTP to the fake Bot API: a group gets a deep link, never
order details; the private chat it opens carries on with the lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bot import texts
from bot.app import Components
from bot.orders.demo import load_demo
from bot.telegram import TelegramApp, build_application, handle_webhook_update, start, stop
from tests.fake_bot_api import BOT_USERNAME, TOKEN, FakeBotApi, group_chat, user

SECRET = "orders-webhook-secret"
GROUP = group_chat()
Json = dict[str, Any]


@pytest.fixture
async def app(fake: FakeBotApi, bot_on: Components) -> AsyncIterator[TelegramApp]:
    await load_demo(bot_on.engine)
    application = build_application(
        TOKEN, fake.base_url, bot_on.pipeline, bot_on.store, bot_on.localizer, webhook_secret=SECRET
    )
    await start(application)
    fake.clear()
    yield application
    await stop(application)


async def deliver(app: TelegramApp, update: Json) -> None:
    assert await handle_webhook_update(app, update, SECRET, SECRET)


async def ask_in_group(app: TelegramApp, fake: FakeBotApi, sender: int, text: str) -> Json:
    await deliver(app, fake.text(f"@{BOT_USERNAME} {text}", chat=GROUP, sender=user(sender)))
    [reply] = fake.sent(GROUP["id"])
    fake.clear()
    return reply


def start_payload(reply: Json) -> str:
    [[button]] = reply["reply_markup"]["inline_keyboard"]
    url = urlparse(button["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "t.me", f"/{BOT_USERNAME}")
    [payload] = parse_qs(url.query)["start"]
    return payload


async def test_a_group_gets_a_private_link_and_the_lookup_continues_there(
    app: TelegramApp, fake: FakeBotApi, bot_on: Components
) -> None:
    reply = await ask_in_group(app, fake, 4001, "where is my order ORD2025000601?")
    assert reply["text"] == bot_on.localizer.gettext("en", texts.ORDER_GROUP_PRIVATE)
    assert "UPS" not in reply["text"] and "2025000601" not in str(reply["reply_markup"])
    payload = start_payload(reply)
    assert len(payload) <= 64 and payload.replace("_", "").replace("-", "").isalnum()

    await deliver(app, fake.text(f"/start {payload}", sender=user(4001)))
    [asked] = fake.sent(4001)
    expected = bot_on.localizer.gettext("en", texts.ORDER_ASK_CONTACT)
    assert asked["text"] == expected.format(number="ORD2025000601")
    fake.clear()
    await deliver(app, fake.text("john.miller@example.com", sender=user(4001)))
    [shown] = fake.sent(4001)
    assert "1Z999AA10123456784" in shown["text"] and "Status: shipped." in shown["text"]

    fake.clear()  # the link works once
    await deliver(app, fake.text(f"/start {payload}", sender=user(4001)))
    [again] = fake.sent(4001)
    assert again["text"] == bot_on.localizer.gettext("en", texts.ORDER_LINK_EXPIRED)


async def test_a_linked_customer_still_sees_nothing_in_the_group(
    app: TelegramApp, fake: FakeBotApi, bot_on: Components
) -> None:
    reply = await ask_in_group(app, fake, 4002, "ORD2025000103")
    await deliver(app, fake.text(f"/start {start_payload(reply)}", sender=user(4002)))
    await deliver(app, fake.text("anna.schmidt@example.de", sender=user(4002)))
    shown = [m["text"] for m in fake.sent(4002)]
    assert any("overdue" in text for text in shown)  # the status, then the urgent ticket
    assert "ticket" in shown[-1]
    fake.clear()
    again = await ask_in_group(app, fake, 4002, "show me my orders")
    assert again["text"] == bot_on.localizer.gettext("en", texts.ORDER_GROUP_PRIVATE)
    assert "ORD2025" not in again["text"]


async def test_someone_elses_link_does_not_open(
    app: TelegramApp, fake: FakeBotApi, bot_on: Components
) -> None:
    reply = await ask_in_group(app, fake, 4003, "ORD2025000601")
    await deliver(app, fake.text(f"/start {start_payload(reply)}", sender=user(4004)))
    [refused] = fake.sent(4004)
    assert refused["text"] == bot_on.localizer.gettext("en", texts.ORDER_LINK_EXPIRED)
    assert "ORD2025000601" not in refused["text"]
