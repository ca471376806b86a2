"""Messages the desk sends to a customer: stored in the conversation, delivered after commit.

An agent's reply, "an agent joined", a transfer notice and the rating request are each
stored as a message of the conversation inside the desk's transaction
(:func:`stage`), and handed to :class:`bot.events.Delivery` only once that transaction
has committed (:class:`Pending`), so nothing is delivered that was not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Action, Outgoing, Reply
from bot.events import Delivery
from bot.handoff.models import Ticket
from bot.i18n import Localizer
from bot.storage.models import Conversation, Message
from bot.storage.store import reply_payload


@dataclass(frozen=True, slots=True)
class Pending:
    """A message to deliver once its transaction has committed."""

    conversation_id: str
    channel: str
    chat_id: str | None
    outgoing: Outgoing

    async def deliver(self, delivery: Delivery) -> None:
        """Publish the message and send it on the conversation's channel."""
        await delivery.deliver(self.conversation_id, self.channel, self.chat_id, self.outgoing)


async def stage(
    session: AsyncSession, ticket: Ticket, outgoing: Outgoing, now: datetime
) -> Pending:
    """Add ``outgoing`` to the ticket's conversation; return it ready for delivery."""
    conversation = await session.get(Conversation, ticket.conversation_id)
    payload: dict[str, object] = {"ticket": ticket.id, **(reply_payload(outgoing) or {})}
    session.add(
        Message(
            conversation_id=ticket.conversation_id,
            direction="out",
            sender=outgoing.sender,
            text=outgoing.text,
            language=outgoing.language,
            intent=outgoing.intent,
            action=outgoing.action.value,
            payload=payload,
            created_at=now,
        )
    )
    chat_id = conversation.channel_chat_id if conversation else None
    return Pending(ticket.conversation_id, ticket.channel, chat_id, outgoing)


async def stage_bot_reply(
    session: AsyncSession,
    localizer: Localizer,
    ticket: Ticket,
    reply: Reply,
    action: Action,
    now: datetime,
    suggestions: tuple[str, ...] = (),
) -> Pending:
    """Stage a bot message about the ticket, in the conversation's language."""
    conversation = await session.get(Conversation, ticket.conversation_id)
    language = (conversation.language if conversation else None) or ticket.language
    outgoing = Outgoing(
        text=localizer.render(language, reply),
        language=language,
        intent="handoff",
        action=action,
        suggestions=suggestions,
        details={"ticket": {"id": ticket.id, "status": ticket.status}},
    )
    return await stage(session, ticket, outgoing, now)
