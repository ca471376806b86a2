"""Sending to Telegram without losing a reply: flood control is waited out, blocks dropped.

    TelegramError (python-telegram-bot)
    ├── RetryAfter   429, flood control: wait ``retry_after`` seconds and send again
    │                (at most ``attempts`` times; then the error goes to the error handler)
    ├── Forbidden    403, the user blocked the bot or removed it from the group: logged,
    │                the reply is dropped (nobody can read it)
    └── anything else goes to the application's error handler

A :class:`telegram.ext.AIORateLimiter` (when installed) keeps the bot under the limits in
the first place; this module handles the 429s that still happen.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import Forbidden, RetryAfter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

#: Sending attempts per message while Telegram answers 429.
SEND_ATTEMPTS = 5
#: The longest single wait for flood control, in seconds.
MAX_RETRY_WAIT = 60.0


def retry_seconds(error: RetryAfter) -> float:
    """Return how long flood control asks to wait, in seconds (capped)."""
    with warnings.catch_warnings():
        # PTB 22 warns that ``retry_after`` becomes a timedelta; accept either form.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return min(max(seconds, 0.0), MAX_RETRY_WAIT)


def _replying_to(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
    attempts: int = SEND_ATTEMPTS,
) -> Message | None:
    """Send one message; return it, or ``None`` when the bot may not write to the chat.

    Args:
        bot: The bot that sends.
        chat_id: The chat to write to.
        text: The message.
        keyboard: Inline buttons under the message.
        reply_to: The message this one answers (groups), when it still exists.
        attempts: How often to try while Telegram answers 429.

    Raises:
        RetryAfter: Flood control still refused after ``attempts`` tries.
        TelegramError: Any other failure of the Bot API.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await bot.send_message(
                chat_id,
                text,
                reply_markup=keyboard,
                reply_parameters=_replying_to(reply_to),
            )
        except RetryAfter as error:
            if attempt == attempts:
                raise
            wait = retry_seconds(error)
            log.warning("flood control in chat %s: retrying in %.1f s", chat_id, wait)
            await asyncio.sleep(wait)
        except Forbidden as error:
            log.info(
                "chat %s does not accept the bot's messages (%s); reply dropped", chat_id, error
            )
            return None
    raise AssertionError("unreachable")  # pragma: no cover
