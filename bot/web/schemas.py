"""The JSON shapes of the web chat API, as OpenAPI documents them at ``/docs``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.core import Action


class NewConversation(BaseModel):
    """Optional body of ``POST /api/v1/conversations``."""

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
    ticket: TicketOut | None = Field(
        default=None, description="Set on the reply that opened a ticket (action handoff)."
    )


class Replies(BaseModel):
    """The replies to a message."""

    replies: list[ReplyOut]


class TranscriptMessage(BaseModel):
    """One message of a conversation's history."""

    direction: str = Field(description="in (from the customer) or out.")
    sender: str = Field(description="customer, bot or agent.")
    text: str
    language: str | None
    intent: str | None
    action: str | None


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
