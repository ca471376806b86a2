"""The shared message types: what every channel hands in and gets back.

A channel turns its own input (a Telegram update, a web chat request) into an
:class:`Incoming`, and sends the :class:`Outgoing` messages the pipeline returns.
Replies are named by a message id with parameters (:class:`Reply`) and rendered
into the customer's language only at the end.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


class Action(enum.StrEnum):
    """What a bot reply does, as the web chat API reports it."""

    ANSWER = "answer"
    REFUSE = "refuse"
    ORDER = "order"
    HANDOFF = "handoff"
    CLARIFY = "clarify"
    AGENT = "agent"


class Channel(enum.StrEnum):
    """Where a conversation takes place."""

    WEB = "web"
    TELEGRAM = "telegram"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One customer message, the same for every channel.

    Attributes:
        conversation_id: The conversation in storage.
        text: What the customer wrote (already checked: not empty, not too long).
        client_message_id: The channel's id of the message; a retry with the same id
            is answered once and stored once.
        language_hint: The client's language (Telegram ``language_code``, the
            browser's language): a prior, never a verdict.
        timezone: The customer's IANA time zone when the channel knows it.
        is_group: True in a group chat, where no order details may be shown.
        chosen_language: A language the customer picked explicitly (a button, a
            command); it switches the conversation like "English please" does.
        intent: An intent the channel already knows (a command such as ``/human``, a
            quick-reply button); the NLU is skipped.
        channel_user_id: The sender's account on the channel (the Telegram user id):
            an account linked to a customer sees that customer's orders.
        deep_link: The payload of a deep link that opened the chat (``/start <payload>``).
    """

    conversation_id: str
    text: str
    client_message_id: str | None = None
    language_hint: str | None = None
    timezone: str | None = None
    is_group: bool = False
    chosen_language: str | None = None
    intent: str | None = None
    channel_user_id: str | None = None
    deep_link: str | None = None


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency (ISO 4217), formatted by Babel for the reader's locale."""

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class LanguageList:
    """A reply parameter: the supported languages, each by its own name, when rendered.

    The localizer names them from Babel's data of each locale, which it loads (without
    the sections the bot never reads) when it starts.
    """


#: The one :class:`LanguageList` (it carries nothing).
LANGUAGES = LanguageList()


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply before rendering: a catalog message id and its parameters.

    A parameter may itself be a :class:`Reply` (translated too), a :class:`datetime.date`,
    a :class:`Money` or :data:`LANGUAGES`: each is formatted for the reader's locale when
    rendered.
    """

    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One rendered reply, ready for a channel to send.

    Attributes:
        sender: ``bot`` or ``agent``.
        sender_name: The agent's display name when an agent speaks.
        details: Machine-readable facts of the reply for the channel (a ticket's id,
            priority and position; a link to open a private chat), never text to show.
    """

    text: str
    language: str
    intent: str | None
    action: Action
    suggestions: tuple[str, ...] = ()
    sender: str = "bot"
    sender_name: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
