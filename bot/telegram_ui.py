"""What the Telegram channel shows besides the pipeline's replies.

The bot's commands (with their menu descriptions, customer-facing and therefore
gettext message ids), the language picker and the quick-reply keyboards. Callback
data stays far below Telegram's 64-byte limit: a suggestion button carries only its
index (``s:<n>``) and is resolved from the message's own keyboard when pressed; a
language button carries the tag (``lang:<tag>``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from bot import texts
from bot.i18n import Localizer
from bot.texts import N_

log = logging.getLogger(__name__)

# -- customer-facing texts of this channel -------------------------------------------------
START_DESCRIPTION = N_("Start a conversation")
HELP_DESCRIPTION = N_("What I can do")
LANGUAGE_DESCRIPTION = N_("Choose your language")
CANCEL_DESCRIPTION = N_("End the conversation")
TEXT_ONLY = N_("I can only read text messages. Please type your question.")

#: The supported languages, each by its own name, in menu order (tag → name).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "ru": "Русский",
    "de": "Deutsch",
    "ko": "한국어",
}
#: Telegram's ``language_code`` of a command menu → the tag its descriptions are in.
COMMAND_MENU_LANGUAGES: dict[str, str] = {
    "en": "en",
    "zh": "zh-Hans",
    "ru": "ru",
    "de": "de",
    "ko": "ko",
}
SUGGESTION_PATTERN = re.compile(r"^s:(\d{1,2})$")
LANGUAGE_PATTERN = re.compile(r"^lang:([A-Za-z-]{2,10})$")


@dataclass(frozen=True, slots=True)
class Command:
    """One bot command.

    Attributes:
        name: The command without the slash.
        description: The message id of its menu description.
        intent: The intent it sends to the pipeline; ``None`` when the channel answers
            it itself (``/language`` shows the picker).
    """

    name: str
    description: str
    intent: str | None


COMMANDS: tuple[Command, ...] = (
    Command("start", START_DESCRIPTION, "greet"),
    Command("help", HELP_DESCRIPTION, "bot_capabilities"),
    Command("language", LANGUAGE_DESCRIPTION, None),
    Command("human", texts.SUGGEST_HUMAN, "ask_human"),
    Command("cancel", CANCEL_DESCRIPTION, "cancel"),
)


def command_menu(localizer: Localizer, language: str) -> list[BotCommand]:
    """Return the command menu with its descriptions in ``language``."""
    return [
        BotCommand(command.name, localizer.gettext(language, command.description))
        for command in COMMANDS
    ]


async def register_commands(bot: Bot, localizer: Localizer) -> None:
    """Set the command menu for the default scope and for each supported language.

    A failure is logged, not raised: the menu is a convenience, the bot works without.
    """
    menus: list[tuple[str | None, str]] = [(None, "en"), *COMMAND_MENU_LANGUAGES.items()]
    for code, language in menus:
        try:
            await bot.set_my_commands(command_menu(localizer, language), language_code=code)
        except TelegramError as error:
            log.warning("could not set the %s command menu: %s", code or "default", error)


def suggestion_keyboard(suggestions: Sequence[str]) -> InlineKeyboardMarkup | None:
    """Return quick-reply buttons for ``suggestions`` (two a row), or ``None``."""
    if not suggestions:
        return None
    buttons = [
        InlineKeyboardButton(label, callback_data=f"s:{index}")
        for index, label in enumerate(suggestions)
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def private_chat_keyboard(label: str, bot_username: str, payload: str) -> InlineKeyboardMarkup:
    """Return one URL button opening a private chat with the bot at ``/start <payload>``."""
    url = f"https://t.me/{bot_username}?start={payload}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=url)]])


def language_keyboard() -> InlineKeyboardMarkup:
    """Return the language picker: every supported language by its own name."""
    buttons = [
        InlineKeyboardButton(name, callback_data=f"lang:{tag}") for tag, name in LANGUAGES.items()
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def pressed_label(message: Message, data: str) -> str | None:
    """Return the label of the button of ``message`` whose callback data is ``data``."""
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
