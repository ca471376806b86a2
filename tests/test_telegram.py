"""The Telegram channel: python-telegram-bot over real HTTP to a fake Bot API, real pipeline.

Updates reach the bot the way a webhook delivers them (``handle_webhook_update``) or by
long polling; everything the bot sends goes over HTTP to :mod:`tests.fake_bot_api`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot import policy_texts as policy
from bot import texts
from bot.app import Components
from bot.core import Channel
from bot.handoff import texts as handoff_texts
from bot.telegram import (
    TelegramApp,
    build_application,
    handle_webhook_update,
    run_polling,
    sender,
    start,
    start_webhook,
    stop,
)
from bot.telegram_ui import HELP_DESCRIPTION, LANGUAGE_DESCRIPTION, START_DESCRIPTION, TEXT_ONLY
from tests.fake_bot_api import (
    BOT_USERNAME,
    TOKEN,
    FakeBotApi,
    group_chat,
    private_chat,
    user,
)

SECRET = "s3cret-token_value"
Json = dict[str, Any]


@pytest.fixture
async def app(fake: FakeBotApi, bot: Components) -> AsyncIterator[TelegramApp]:
    application = build_application(
        TOKEN, fake.base_url, bot.pipeline, bot.store, bot.localizer, webhook_secret=SECRET
    )
    await start(application)
    fake.clear()
    yield application
    await stop(application)


async def deliver(app: TelegramApp, update: Json) -> None:
    """Deliver an update as Telegram's webhook does, and wait until it is handled."""
    assert await handle_webhook_update(app, update, SECRET, SECRET)


def texts_to(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [m["text"] for m in fake.sent(chat_id)]


# -- private chats ------------------------------------------------------------------------
DIALOGUE = [
    # (user id, language_code, customer says, expected reply id, reply language)
    (2001, "en", "Hallo, welche E-Mail-Adresse hat der Support?", policy.FAQ_CONTACT_EMAIL, "de"),
    (2002, None, "謝謝", texts.THANKS, "zh-Hant"),
]


@pytest.mark.parametrize(("user_id", "hint", "said", "expected", "language"), DIALOGUE)
async def test_private_chat_answers_in_the_customers_language(
    app: TelegramApp,
    fake: FakeBotApi,
    bot: Components,
    user_id: int,
    hint: str | None,
    said: str,
    expected: str,
    language: str,
) -> None:
    await deliver(app, fake.text(said, sender=user(user_id, language_code=hint)))
    [reply] = fake.sent(user_id)
    assert reply["text"] == bot.localizer.gettext(language, expected)
    if expected == policy.FAQ_CONTACT_EMAIL:
        assert "help@xoobay.com" in reply["text"]
    assert "reply_parameters" not in reply


HINTS = [
    ("en", "en"),
    ("de", "de"),
    ("ru", "ru"),
    ("ko", "ko"),
    ("zh-hans", "zh-Hans"),
    ("zh-hant", "zh-Hant"),
]


@pytest.mark.parametrize(("code", "language"), HINTS)
async def test_commands_follow_the_telegram_language(
    app: TelegramApp, fake: FakeBotApi, bot: Components, code: str, language: str
) -> None:
    """A command carries no language: the first answer follows ``language_code``."""
    await deliver(app, fake.text("/start", sender=user(2101, language_code=code)))
    await deliver(app, fake.text(f"/help@{BOT_USERNAME}", sender=user(2101, language_code=code)))
    assert texts_to(fake, 2101) == [
        bot.localizer.gettext(language, texts.GREETING),
        bot.localizer.gettext(language, texts.BOT_CAPABILITIES),
    ]
    conversation = await bot.store.open_chat(Channel.TELEGRAM, "2101")
    said = [m.text for m in await bot.store.transcript(conversation.id) if m.direction == "in"]
    assert said == [
        bot.localizer.gettext(language, START_DESCRIPTION),
        bot.localizer.gettext(language, HELP_DESCRIPTION),
    ]


COMMANDS = [
    ("/start", texts.GREETING),
    ("/start ref-campaign-42", texts.GREETING),
    ("/help", texts.BOT_CAPABILITIES),
    ("/cancel", texts.GOODBYE),
]


@pytest.mark.parametrize(("command", "expected"), COMMANDS)
async def test_commands(
    app: TelegramApp, fake: FakeBotApi, bot: Components, command: str, expected: str
) -> None:
    await deliver(app, fake.text(command))
    assert texts_to(fake, 1001) == [bot.localizer.gettext("en", expected)]


async def test_human_opens_a_ticket_and_cancel_returns_to_the_bot(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    await deliver(app, fake.text("/human"))
    opened = texts_to(fake, 1001)[0]
    assert "ticket number is 1" in opened and "number 1 in the queue" in opened
    fake.clear()
    await deliver(app, fake.text("/cancel"))
    assert texts_to(fake, 1001) == [bot.localizer.gettext("en", handoff_texts.CANCELLED)]


async def test_an_agents_reply_and_the_rating_request_reach_the_telegram_chat(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    bot.delivery.register(Channel.TELEGRAM, sender(app))
    await deliver(app, fake.text("/human"))
    await bot.agents.add("anna", "Anna", "correct horse battery", ["en"])
    agent, _, _ = await bot.agents.login("anna", "correct horse battery")
    ticket = await bot.desk.take_next(agent)
    fake.clear()
    await bot.desk.reply(agent, ticket.id, "Hi, I'm looking at it <b>now</b>.")
    assert texts_to(fake, 1001) == ["Anna: Hi, I'm looking at it <b>now</b>."]
    assert "parse_mode" not in fake.sent(1001)[0]
    fake.clear()
    await bot.desk.close(agent, ticket.id, "answered")
    [request] = fake.sent(1001)
    assert request["text"] == bot.localizer.gettext("en", handoff_texts.RATING_REQUEST)
    buttons = [b["text"] for row in request["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["1", "2", "3", "4", "5"]


async def test_language_picker_switches_the_conversation(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    await deliver(app, fake.text("/language"))
    [picker] = fake.sent(1001)
    assert picker["text"] == bot.localizer.gettext("en", LANGUAGE_DESCRIPTION)
    buttons = [b for row in picker["reply_markup"]["inline_keyboard"] for b in row]
    names = [b["text"] for b in buttons]
    assert names == ["English", "简体中文", "繁體中文", "Русский", "Deutsch", "한국어"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    korean = buttons[names.index("한국어")]["callback_data"]

    message = {
        **fake.bot_message(picker["text"], private_chat(1001)),
        "reply_markup": picker["reply_markup"],
    }
    fake.clear()
    await deliver(app, fake.callback(message, korean))
    assert fake.requests("answerCallbackQuery")
    assert texts_to(fake, 1001) == [bot.localizer.gettext("ko", texts.LANGUAGE_SWITCHED)]

    fake.clear()
    await deliver(app, fake.text("/help"))
    assert texts_to(fake, 1001) == [bot.localizer.gettext("ko", texts.BOT_CAPABILITIES)]


async def test_suggestion_buttons_send_their_label(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    await deliver(app, fake.text("purple elephants dance on the moon"))
    [clarify] = fake.sent(1001)
    assert clarify["text"] == bot.localizer.gettext("en", texts.CLARIFY)
    buttons = [b for row in clarify["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == [
        texts.SUGGEST_HOURS,
        texts.SUGGEST_CONTACT,
        texts.SUGGEST_ORDER,
        texts.SUGGEST_HUMAN,
    ]
    assert [b["callback_data"] for b in buttons] == ["s:0", "s:1", "s:2", "s:3"]

    message = {
        **fake.bot_message(clarify["text"], private_chat(1001)),
        "reply_markup": clarify["reply_markup"],
    }
    fake.clear()
    await deliver(app, fake.callback(message, "s:0"))
    [answer] = fake.sent(1001)
    assert "08:00" in answer["text"]
    assert fake.requests("answerCallbackQuery")


async def test_a_too_long_message_is_refused_politely(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    await deliver(app, fake.text("a" * 4001))
    [reply] = fake.sent(1001)
    assert reply["text"] == bot.localizer.gettext("en", texts.ERROR_TOO_LONG).format(limit=4000)


# -- groups -------------------------------------------------------------------------------
GROUP = group_chat()
GROUP_ID = GROUP["id"]


async def test_group_messages_not_for_the_bot_are_ignored(
    app: TelegramApp, fake: FakeBotApi
) -> None:
    await deliver(app, fake.text("What is your support email?", chat=GROUP))
    await deliver(app, fake.text("@someone_else what is your support email?", chat=GROUP))
    await deliver(app, fake.text("/start@other_bot", chat=GROUP))
    assert fake.sent() == []


async def test_a_mention_in_a_group_is_answered_in_reply(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    update = fake.text(
        f"@{BOT_USERNAME} What is your support email?", chat=GROUP, sender=user(3001)
    )
    await deliver(app, update)
    [reply] = fake.sent(GROUP_ID)
    assert reply["text"] == bot.localizer.gettext("en", policy.FAQ_CONTACT_EMAIL)
    assert reply["reply_parameters"]["message_id"] == update["message"]["message_id"]
    conversation = await bot.store.open_chat(Channel.TELEGRAM, f"{GROUP_ID}:3001")
    said = [m.text for m in await bot.store.transcript(conversation.id) if m.direction == "in"]
    assert said == ["What is your support email?"]


async def test_a_bare_mention_in_a_group_is_a_greeting(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    await deliver(app, fake.text(f"@{BOT_USERNAME}", chat=GROUP, sender=user(3004)))
    assert texts_to(fake, GROUP_ID) == [bot.localizer.gettext("en", texts.GREETING)]


async def test_a_reply_to_the_bot_in_a_group_is_answered(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    earlier = fake.bot_message("Hello!", GROUP)
    update = fake.text("What is your support email?", chat=GROUP, reply_to=earlier)
    await deliver(app, update)
    [reply] = fake.sent(GROUP_ID)
    assert reply["text"] == bot.localizer.gettext("en", policy.FAQ_CONTACT_EMAIL)
    assert reply["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_commands_in_a_group_are_answered_per_member(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    await deliver(app, fake.text("/help", chat=GROUP, sender=user(3002, language_code="de")))
    await deliver(app, fake.text(f"/help@{BOT_USERNAME}", chat=GROUP, sender=user(3003)))
    assert texts_to(fake, GROUP_ID) == [
        bot.localizer.gettext("de", texts.BOT_CAPABILITIES),
        bot.localizer.gettext("en", texts.BOT_CAPABILITIES),
    ]


# -- robustness ---------------------------------------------------------------------------
async def test_a_duplicate_update_is_answered_once(app: TelegramApp, fake: FakeBotApi) -> None:
    update = fake.text("/help")
    await deliver(app, update)
    await deliver(app, update)
    assert len(fake.sent(1001)) == 1


async def test_flood_control_is_waited_out_and_the_reply_delivered(
    app: TelegramApp, fake: FakeBotApi, bot: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 warns while building RetryAfter unless opted in to its timedelta form.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.fail_next("sendMessage", 429, retry_after=1)
    began = time.monotonic()
    await deliver(app, fake.text("/help"))
    assert time.monotonic() - began >= 0.9
    assert [c.status for c in fake.requests("sendMessage")] == [429, 200]
    assert texts_to(fake, 1001) == [bot.localizer.gettext("en", texts.BOT_CAPABILITIES)]


async def test_a_blocked_bot_drops_the_reply_and_carries_on(
    app: TelegramApp, fake: FakeBotApi
) -> None:
    fake.fail_next("sendMessage", 403)
    await deliver(app, fake.text("/help"))
    assert [c.status for c in fake.requests("sendMessage")] == [403]
    await deliver(app, fake.text("/start"))
    assert len(fake.sent(1001)) == 1


async def test_a_failure_tells_the_customer_and_allows_a_redelivery(
    fake: FakeBotApi, bot: Components
) -> None:
    class Broken:
        async def handle(self, incoming: object) -> list[object]:
            raise RuntimeError("database on fire")

    application = build_application(
        TOKEN,
        fake.base_url,
        Broken(),
        bot.store,
        bot.localizer,
        webhook_secret=SECRET,  # type: ignore[arg-type]
    )
    await start(application)
    try:
        update = fake.text("/help", sender=user(1001, language_code="ru"))
        await deliver(application, update)
        await deliver(application, update)
    finally:
        await stop(application)
    expected = bot.localizer.gettext("ru", texts.ERROR_GENERIC)
    assert texts_to(fake, 1001) == [expected, expected]


async def test_a_sticker_gets_a_request_for_text(
    app: TelegramApp, fake: FakeBotApi, bot: Components
) -> None:
    await deliver(app, fake.sticker(sender=user(1001, language_code="de")))
    assert texts_to(fake, 1001) == [bot.localizer.gettext("de", TEXT_ONLY)]


async def test_bots_channels_and_edits_are_ignored(app: TelegramApp, fake: FakeBotApi) -> None:
    await deliver(app, fake.text("/help", sender=user(4001, is_bot=True)))
    await deliver(app, fake.from_channel("What is your support email?"))
    await deliver(app, fake.edited("What is your support email?"))
    assert fake.sent() == []


async def test_the_command_menu_is_set_in_every_language(fake: FakeBotApi, bot: Components) -> None:
    application = build_application(TOKEN, fake.base_url, bot.pipeline, bot.store, bot.localizer)
    await start(application)
    await stop(application)
    menus = {
        c.params.get("language_code"): c.params["commands"] for c in fake.requests("setMyCommands")
    }
    assert set(menus) == {None, "en", "zh", "ru", "de", "ko"}
    for code, language in [(None, "en"), ("zh", "zh-Hans"), ("ru", "ru"), ("ko", "ko")]:
        assert [c["command"] for c in menus[code]] == [
            "start",
            "help",
            "language",
            "human",
            "cancel",
        ]
        assert menus[code][3]["description"] == bot.localizer.gettext(language, texts.SUGGEST_HUMAN)


# -- webhook and polling ------------------------------------------------------------------
async def test_the_webhook_checks_the_secret(app: TelegramApp, fake: FakeBotApi) -> None:
    assert not await handle_webhook_update(app, fake.text("/help"), "wrong", SECRET)
    assert not await handle_webhook_update(app, fake.text("/help"), None, SECRET)
    assert not await handle_webhook_update(app, fake.text("/help"), "", "")
    assert fake.sent() == []
    assert await handle_webhook_update(app, fake.text("/help"), SECRET, SECRET)
    assert len(fake.sent(1001)) == 1


async def test_start_webhook_registers_the_url_and_secret(
    app: TelegramApp, fake: FakeBotApi
) -> None:
    await start_webhook(app, "https://shop.example/telegram/webhook", SECRET)
    [call] = fake.requests("setWebhook")
    assert call.params["url"] == "https://shop.example/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]


async def test_polling_answers_and_stops_cleanly(fake: FakeBotApi, bot: Components) -> None:
    application = build_application(TOKEN, fake.base_url, bot.pipeline, bot.store, bot.localizer)
    await run_polling(application, poll_timeout=1)
    try:
        fake.inject(fake.text("/help", sender=user(5001)))
        [reply] = await fake.wait_sent(1, chat_id=5001, timeout=10)
    finally:
        began = time.monotonic()
        await stop(application)
    assert time.monotonic() - began < 5
    assert reply["text"] == bot.localizer.gettext("en", texts.BOT_CAPABILITIES)
    assert not application.running
