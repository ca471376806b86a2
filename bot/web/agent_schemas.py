"""The JSON shapes of the agent API (``/api/v1/agent``), as OpenAPI documents them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    """An agent's credentials."""

    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class AgentOut(BaseModel):
    """An agent as the console shows them."""

    id: int
    login: str
    name: str
    languages: list[str]
    max_chats: int


class LoginOut(BaseModel):
    """A new session: send ``token`` as ``Authorization: Bearer``."""

    token: str
    expires_at: datetime
    agent: AgentOut


class TicketOut(BaseModel):
    """A ticket in the queue or held by an agent."""

    id: int
    conversation_id: str
    channel: str
    language: str = Field(description="The customer's detected language (BCP-47).")
    priority: str = Field(description="urgent, complex or regular.")
    reason: str = Field(description="Why it was opened (asked, urgent, not_understood, ...).")
    status: str = Field(description="queued, assigned, waiting_customer, resolved, cancelled.")
    sla_deadline: datetime
    created_at: datetime
    agent_id: int | None
    agent_name: str | None
    summary: dict[str, Any] = Field(description="intent, order_number, language, last_messages.")
    resolution_note: str | None


class QueueOut(BaseModel):
    """The queue in the agent's languages (most urgent first) and the agent's own tickets."""

    tickets: list[TicketOut]
    now: datetime = Field(description="The server's time, for SLA countdowns.")


class MessageOut(BaseModel):
    """One message of a ticket's transcript."""

    direction: str
    sender: str
    text: str
    language: str | None
    intent: str | None
    action: str | None


class TicketDetailOut(BaseModel):
    """A ticket with its full transcript and the canned replies in its language."""

    ticket: TicketOut
    messages: list[MessageOut]
    canned: list[str]


class ReplyIn(BaseModel):
    """An agent's message to the customer."""

    text: str = Field(min_length=1, max_length=4000)


class CloseIn(BaseModel):
    """How the ticket was resolved (kept with the ticket)."""

    note: str = Field(min_length=1, max_length=4000)


class TransferIn(BaseModel):
    """Transfer to another agent (``agent``, a login) or to the queue of a ``language``."""

    agent: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=35)
