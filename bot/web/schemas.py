"""The JSON shapes of the web chat API, as OpenAPI documents them at ``/docs``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.core import Action


class Identity(BaseModel):
    """A customer identity signed by the shop's website (see the README's recipe)."""

    customer_id: str = Field(
        min_length=1, max_length=128, description="The shop's id of the signed-in customer."
    )
    expires: int = Field(description="Unix time (seconds) after which the identity is refused.")
    signature: str = Field(
        max_length=128,
        description='Hex HMAC-SHA256 of f"{customer_id}.{expires}" with WEBCHAT_IDENTITY_SECRET.',
    )


class NewConversation(BaseModel):
    """Optional body of ``POST /api/v1/conversations``."""

    identity: Identity | None = Field(
        default=None,
        description="The signed-in customer: they see their own orders without further checks.",
    )

    locale: str | None = Field(
        default=None, max_length=35, description="The browser's language, a hint (e.g. de-DE)."
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="The customer's IANA time zone."
    )


class ConversationCreated(BaseModel):
    """A new conversation and the bearer token for its messages."""

    id: str
    token: str


class MessageIn(BaseModel):
    """A customer message."""

    text: str = Field(description="What the customer wrote.")
    client_message_id: str | None = Field(
        default=None,
        max_length=128,
        description="The client's id for this message: a retry with the same id is "
        "answered once and stored once.",
    )
    language: str | None = Field(
        default=None,
        max_length=35,
        description="A language the customer picked (language button): switches the "
        "conversation to it (en, zh-Hans, zh-Hant, ru, de, ko).",
    )


class TicketOut(BaseModel):
    """The ticket a ``handoff`` reply opened: where the customer stands in the queue."""

    id: int
    priority: str = Field(description="urgent, complex or regular.")
    position: int = Field(description="Place in the queue of the ticket's language, from 1.")
    expected_wait_minutes: int


class ReplyOut(BaseModel):
    """One reply of the bot (or of an agent)."""

    text: str
    language: str = Field(description="BCP-47: en, zh-Hans, zh-Hant, ru, de or ko.")
    intent: str | None = Field(description="The NLU's intent name, if any.")
    action: Action
    suggestions: list[str] = Field(default_factory=list, description="Quick replies.")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="Machine-readable facts of the reply (a ticket's id, priority, position).",
    )
    ticket: TicketOut | None = Field(
        default=None, description="Set on the reply that opened a ticket (action handoff)."
    )


class Replies(BaseModel):
    """The replies to a message."""

    replies: list[ReplyOut]


class TranscriptMessage(BaseModel):
    """One message of a conversation's history."""

    id: int = Field(description="Increases with every message: what a client has shown.")
    direction: str = Field(description="in (from the customer) or out.")
    sender: str = Field(description="customer, bot or agent.")
    text: str
    language: str | None
    intent: str | None
    action: str | None
    sender_name: str | None = Field(default=None, description="The agent's name.")
    suggestions: list[str] = Field(default_factory=list, description="Quick replies.")


class Transcript(BaseModel):
    """A conversation's history, oldest first."""

    messages: list[TranscriptMessage]


class ErrorBody(BaseModel):
    """What went wrong."""

    code: str
    message: str


class ErrorOut(BaseModel):
    """Every 4xx and 5xx answer of the API."""

    error: ErrorBody


class LanguageOut(BaseModel):
    """A language the customer may pick, named in itself."""

    tag: str = Field(description="BCP-47: en, zh-Hans, zh-Hant, ru, de or ko.")
    name: str = Field(description="The language's own name (Deutsch, 한국어, ...).")


class WidgetStrings(BaseModel):
    """The chat widget's own texts in one language, and the languages to pick from."""

    language: str = Field(description="The language of ``strings`` (BCP-47).")
    strings: dict[str, str] = Field(description="Label key → text.")
    languages: list[LanguageOut]
