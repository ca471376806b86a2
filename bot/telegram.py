"""The Telegram channel: python-telegram-bot wired to the pipeline, by polling or webhook.

Only this module and its ``bot.telegram_*`` helpers import python-telegram-bot. The
composition root builds the application once and runs it inside the server's own event
loop, next to uvicorn::

    application = build_application(token, "https://api.telegram.org/bot",
                                     parts.pipeline, parts.store, parts.localizer)
    await run_polling(application)          # long polling (one process), or
    await start_webhook(application, "https://shop.example/telegram/webhook", secret)
    ...                                     # POST /telegram/webhook → handle_webhook_update
    await stop(application)

Handlers live in :mod:`bot.telegram_channel`, menus and keyboards in
:mod:`bot.telegram_ui`, sending with flood-control retries in :mod:`bot.telegram_send`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, BaseRateLimiter

from bot.core import Outgoing
from bot.i18n import Localizer
from bot.pipeline import Pipeline
from bot.storage.store import Store
from bot.telegram_channel import TelegramApp, TelegramChannel
from bot.telegram_send import send_text
from bot.telegram_ui import suggestion_keyboard

__all__ = [
    "ALLOWED_UPDATES",
    "SECRET_HEADER",
    "TelegramApp",
    "TelegramChannel",
    "build_application",
    "handle_webhook_update",
    "run_polling",
    "sender",
    "start",
    "start_webhook",
    "stop",
]

log = logging.getLogger(__name__)

#: The update kinds the bot asks Telegram for (edited messages are not answered).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
#: The header Telegram sends the webhook's secret token in.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def build_application(
    token: str,
    base_url: str,
    pipeline: Pipeline,
    store: Store,
    localizer: Localizer,
    *,
    webhook_secret: str | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> TelegramApp:
    """Build the Telegram application with the channel's handlers.

    Args:
        token: The bot's token from @BotFather.
        base_url: The Bot API's URL before the token, e.g. ``"https://api.telegram.org/bot"``.
        pipeline: The message pipeline.
        store: The conversation store (a chat's conversation is opened there).
        localizer: Renders the channel's own texts and command menus.
        webhook_secret: Given in webhook mode: the application then has no updater.
        rate_limiter: Paces the sending; by default ``AIORateLimiter`` at Telegram's
            published limits (30 messages a second overall, 20 a minute per group).
            A 429 that still happens is retried by :mod:`bot.telegram_send`.
    """
    channel = TelegramChannel(pipeline, store, localizer)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .job_queue(None)
        .post_init(channel.post_init)
    )
    if webhook_secret is not None:
        builder = builder.updater(None)
    limiter = rate_limiter or AIORateLimiter(max_retries=0)
    builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB generic args
    application: TelegramApp = builder.build()
    channel.register(application)
    return application


def sender(application: TelegramApp) -> Callable[[str, Outgoing], Awaitable[None]]:
    """The Telegram sender :class:`bot.events.Delivery` calls for later messages.

    The chat id is the conversation's: ``"<chat>"`` (private) or ``"<chat>:<user>"``
    (a member in a group, written to in the group). An agent's message is signed with
    their name.
    """

    async def send(chat_id: str, outgoing: Outgoing) -> None:
        chat = int(chat_id.split(":", 1)[0])
        text = outgoing.text
        if outgoing.sender == "agent" and outgoing.sender_name:
            text = f"{outgoing.sender_name}: {text}"
        await send_text(
            application.bot, chat, text, keyboard=suggestion_keyboard(outgoing.suggestions)
        )

    return send


async def start(application: TelegramApp) -> None:
    """Initialize (``getMe``), run the ``post_init`` hook (command menus) and start."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()


async def run_polling(application: TelegramApp, *, poll_timeout: float = 10.0) -> None:
    """Start the application and long polling; return once polling runs.

    Unlike ``Application.run_polling`` this does not own the event loop, so it runs
    next to uvicorn. Stop with :func:`stop`.

    Raises:
        RuntimeError: The application was built for webhook mode (no updater).
    """
    if application.updater is None:
        raise RuntimeError("this Telegram application was built for webhook mode")
    await start(application)
    await application.updater.start_polling(
        timeout=timedelta(seconds=poll_timeout),
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,
    )
    log.info("Telegram: polling as @%s", application.bot.username)


async def start_webhook(application: TelegramApp, url: str, secret: str) -> None:
    """Start the application and point Telegram's webhook at ``url`` with ``secret``."""
    if not application.running:
        await start(application)
    await application.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    log.info("Telegram: webhook set to %s", url)


async def stop(application: TelegramApp) -> None:
    """Stop polling (if running), the application, and release its HTTP clients."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


async def handle_webhook_update(
    application: TelegramApp,
    body: Mapping[str, Any],
    secret_header: str | None,
    expected_secret: str,
) -> bool:
    """Process one webhook request's update; ``False`` when the secret is wrong (403).

    Args:
        application: The started application.
        body: The request's JSON body (an ``Update``).
        secret_header: The request's ``X-Telegram-Bot-Api-Secret-Token`` header.
        expected_secret: The secret given to :func:`start_webhook`.
    """
    given = (secret_header or "").encode()
    if not expected_secret or not hmac.compare_digest(given, expected_secret.encode()):
        log.warning("Telegram webhook request with a wrong or missing secret token")
        return False
    try:
        update = Update.de_json(dict(body), application.bot)
    except (TypeError, KeyError, ValueError) as error:
        log.warning("Telegram webhook body is not an update (%s); dropped", error)
        return True
    await application.process_update(update)
    return True
