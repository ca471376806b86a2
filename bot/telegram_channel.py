"""The Telegram channel's handlers: an update in, the pipeline, the replies out.

Private chats: every text goes to the pipeline; anything else (stickers, photos, voice,
files) gets a request to type. Groups: the bot answers only when mentioned, when the
message replies to one of its messages, or for its commands, and answers each member in
a conversation of their own (chat id ``"<chat>:<user>"``), replying to their message.
Edited messages, messages of other bots and of channels (``sender_chat``) are ignored.
Order details never appear in a group: a reply with ``details["private_chat"]`` gets a
button opening a private chat (``https://t.me/<bot>?start=<payload>``), and ``/start
<payload>`` there hands the payload to the pipeline (``Incoming.deep_link``).

Conversation state is in the database (the pipeline's), never in python-telegram-bot:
no ``ConversationHandler``, no persistence. The same update delivered twice to this
process is answered once (:class:`RecentUpdates`); across processes the pipeline's
``client_message_id`` keeps the conversation right, though its stored replies would be
sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Bot, Chat, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import texts
from bot.core import Action, Channel, Incoming, Outgoing, Reply
from bot.errors import InputError, MessageTooLong
from bot.i18n import Localizer
from bot.language import normalize_tag
from bot.pipeline import Pipeline
from bot.storage.store import ConversationInfo, Store
from bot.telegram_gate import RecentUpdates, addressed_text
from bot.telegram_send import send_text
from bot.telegram_ui import (
    COMMANDS,
    LANGUAGE_DESCRIPTION,
    LANGUAGE_PATTERN,
    LANGUAGES,
    SUGGESTION_PATTERN,
    TEXT_ONLY,
    Command,
    language_keyboard,
    pressed_label,
    private_chat_keyboard,
    register_commands,
    suggestion_keyboard,
)

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
TelegramApp = Application[Any, Any, Any, Any, Any, Any]


class TelegramChannel:
    """Turns Telegram updates into :class:`Incoming` and sends the replies back."""

    def __init__(
        self,
        pipeline: Pipeline,
        store: Store,
        localizer: Localizer,
        recent: RecentUpdates | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._store = store
        self._localizer = localizer
        self._recent = recent or RecentUpdates()

    def register(self, application: TelegramApp) -> None:
        """Add the channel's handlers and error handler to ``application``."""
        new = filters.UpdateType.MESSAGE  # edited messages and channel posts never match
        application.add_handler(TypeHandler(Update, self._gate), group=-1)
        for command in COMMANDS:
            answer = self._language_picker if command.intent is None else self._command(command)
            application.add_handler(CommandHandler(command.name, answer, filters=new))
        private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
        application.add_handler(MessageHandler(new & private & filters.TEXT, self._on_private))
        application.add_handler(
            MessageHandler(new & groups & filters.TEXT & ~filters.COMMAND, self._on_group)
        )
        application.add_handler(
            MessageHandler(new & private & ~filters.StatusUpdate.ALL, self._on_non_text)
        )
        application.add_handler(CallbackQueryHandler(self._on_suggestion, SUGGESTION_PATTERN))
        application.add_handler(CallbackQueryHandler(self._on_language, LANGUAGE_PATTERN))
        application.add_error_handler(self._on_error)

    async def post_init(self, application: TelegramApp) -> None:
        """Register the command menu in every supported language."""
        await register_commands(application.bot, self._localizer)

    async def _gate(self, update: Update, context: Context) -> None:
        """Stop duplicates, other bots' and channels' messages before any handler."""
        if not self._recent.claim(update.update_id):
            log.info("update %s delivered again; ignored", update.update_id)
            raise ApplicationHandlerStop
        message = update.message
        if message is not None and (
            message.sender_chat is not None or message.from_user is None or message.from_user.is_bot
        ):
            raise ApplicationHandlerStop

    def _command(self, command: Command) -> Callback:
        """Return the handler of a command that sends its intent to the pipeline."""

        async def answer(update: Update, context: Context) -> None:
            message, chat, user = _message_parts(update)
            payload = None
            if context.args and command.name == "start" and chat.type == ChatType.PRIVATE:
                payload = context.args[0][:64]  # a deep link's payload (/start <payload>)
            await self._converse(context.bot, chat, user, command, message, deep_link=payload)

        return answer

    async def _on_private(self, update: Update, context: Context) -> None:
        """Send a private text to the pipeline."""
        message, chat, user = _message_parts(update)
        await self._converse(context.bot, chat, user, message.text or "", message)

    async def _on_group(self, update: Update, context: Context) -> None:
        """Send a group text to the pipeline when it is for the bot."""
        message, chat, user = _message_parts(update)
        text = addressed_text(message, context.bot.username, context.bot.id)
        if text is None:
            return
        intent = None if text else "greet"  # a bare mention is a greeting
        await self._converse(
            context.bot, chat, user, text or (message.text or ""), message, intent=intent
        )

    async def _on_non_text(self, update: Update, context: Context) -> None:
        """Ask for text when a private message has none (stickers, photos, voice, files)."""
        _, chat, user = _message_parts(update)
        language = _language(await self._open(chat, user), user)
        await send_text(context.bot, chat.id, self._localizer.gettext(language, TEXT_ONLY))

    async def _language_picker(self, update: Update, context: Context) -> None:
        """Show the supported languages as buttons."""
        message, chat, user = _message_parts(update)
        language = _language(await self._open(chat, user), user)
        prompt = self._localizer.gettext(language, LANGUAGE_DESCRIPTION)
        await send_text(
            context.bot,
            chat.id,
            prompt,
            keyboard=language_keyboard(),
            reply_to=_in_group(chat, message),
        )

    async def _on_suggestion(self, update: Update, context: Context) -> None:
        """Send a pressed quick-reply button's label as the customer's message."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        await _acknowledge(query.answer)
        message = query.message
        if not isinstance(message, Message) or update.effective_user is None:
            return  # too old for Telegram to show its buttons
        label = pressed_label(message, query.data)
        if label is not None:
            user, key = update.effective_user, f"cb:{query.id}"
            await self._converse(context.bot, message.chat, user, label, message, key=key)

    async def _on_language(self, update: Update, context: Context) -> None:
        """Switch the conversation to the language picked in the picker."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        await _acknowledge(query.answer)
        match = LANGUAGE_PATTERN.match(query.data)
        tag = match.group(1) if match else ""
        message = query.message
        if tag not in LANGUAGES or not isinstance(message, Message):
            return
        user, key = update.effective_user, f"cb:{query.id}"
        if user is not None:
            await self._converse(
                context.bot, message.chat, user, LANGUAGES[tag], message, key=key, chosen=tag
            )

    async def _converse(
        self,
        bot: Bot,
        chat: Chat,
        user: User,
        said: str | Command,
        message: Message,
        *,
        key: str | None = None,
        intent: str | None = None,
        chosen: str | None = None,
        deep_link: str | None = None,
    ) -> None:
        """Hand one customer message to the pipeline and send its replies.

        ``said`` is the text, or a command (its intent, said in words). ``message`` is
        the customer's message (or, for a button, the bot's message that carried it):
        its id names the turn unless ``key`` does, and groups reply to it.
        """
        info = await self._open(chat, user)
        if isinstance(said, Command):
            text, intent = self._command_text(said, _language(info, user)), said.intent
        else:
            text = said
        incoming = Incoming(
            info.id,
            text,
            client_message_id=f"tg:{chat.id}:{key or message.message_id}",
            language_hint=user.language_code,
            is_group=chat.type != ChatType.PRIVATE,
            chosen_language=chosen,
            intent=intent,
            channel_user_id=str(user.id),
            deep_link=deep_link,
        )
        try:
            replies = await self._pipeline.handle(incoming)
        except InputError as error:
            replies = [self._input_error(error, _language(info, user))]
        for reply in replies:
            await send_text(
                bot,
                chat.id,
                reply.text,
                keyboard=self._keyboard(bot, reply),
                reply_to=_in_group(chat, message),
            )

    def _keyboard(self, bot: Bot, reply: Outgoing) -> InlineKeyboardMarkup | None:
        """Return a reply's buttons: a link to a private chat, or its quick replies."""
        payload = reply.details.get("private_chat")
        if isinstance(payload, str) and bot.username:
            label = self._localizer.gettext(reply.language, texts.ORDER_OPEN_PRIVATE)
            return private_chat_keyboard(label, bot.username, payload)
        return suggestion_keyboard(reply.suggestions)

    def _command_text(self, command: Command, language: str) -> str:
        """Say a command in words: its description in the conversation's language.

        The pipeline detects the language of the text, and a command's (English) name
        reads as English; the description does not mislead it. While a description is
        not translated, ``"/"`` stands in: no language at all.
        """
        text = self._localizer.gettext(language, command.description)
        return "/" if text == command.description and language != "en" else text

    def _input_error(self, error: InputError, language: str) -> Outgoing:
        if isinstance(error, MessageTooLong):
            reply = Reply(texts.ERROR_TOO_LONG, {"limit": error.limit})
        else:
            reply = Reply(texts.ERROR_EMPTY)
        return Outgoing(self._localizer.render(language, reply), language, None, Action.CLARIFY)

    async def _open(self, chat: Chat, user: User) -> ConversationInfo:
        """Return the conversation of a private chat, or of one member in a group."""
        chat_key = str(chat.id) if chat.type == ChatType.PRIVATE else f"{chat.id}:{user.id}"
        return await self._store.open_chat(
            Channel.TELEGRAM, chat_key, language_hint=user.language_code
        )

    async def _on_error(self, update: object, context: Context) -> None:
        """Log a failed update and tell the customer something safe."""
        log.error("Telegram update failed: %r", context.error, exc_info=context.error)
        if not isinstance(update, Update):
            return
        self._recent.release(update.update_id)
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return
        language = normalize_tag(user.language_code if user else None) or "en"
        text = self._localizer.gettext(language, texts.ERROR_GENERIC)
        try:
            await send_text(context.bot, chat.id, text, attempts=1)
        except TelegramError as error:
            log.warning("could not tell chat %s about the failure: %s", chat.id, error)


def _message_parts(update: Update) -> tuple[Message, Chat, User]:
    """Return an update's message, chat and sender (the handlers' filters ensure them)."""
    message, user = update.message, update.effective_user
    if message is None or user is None:
        raise ValueError(f"update {update.update_id} has no message from a user")
    return message, message.chat, user


def _in_group(chat: Chat, message: Message) -> int | None:
    """Return the message to reply to: in groups the customer's, in private none."""
    return None if chat.type == ChatType.PRIVATE else message.message_id


def _language(info: ConversationInfo, user: User) -> str:
    """Return the language for the channel's own texts in a conversation."""
    return info.language or normalize_tag(user.language_code) or "en"


async def _acknowledge(answer: Callable[[], Coroutine[Any, Any, bool]]) -> None:
    """Answer a callback query (stops the button's spinner); an expired one is fine."""
    try:
        await answer()
    except BadRequest as error:
        log.debug("callback query not answered: %s", error)
