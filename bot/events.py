"""Conversation events: what happens in a conversation outside a customer's request.

An agent's reply, the bot speaking again after an agent closes a ticket, a ticket's
change of status: each is published as a :class:`ConversationEvent` on the
:class:`EventBus`, and whoever holds that conversation open (the web chat's stream, the
agent console) receives it. :class:`LocalEventBus` serves one process; a bus across
processes (PostgreSQL LISTEN/NOTIFY or Redis) implements the same two methods.

:class:`Delivery` sends an agent's or the bot's later message to the conversation's
channel: it publishes the event (web chat, console) and calls the sender a channel
registered (Telegram sends a message to the chat).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core import Channel, Outgoing

log = logging.getLogger(__name__)

#: Every event of every conversation (the agent console listens to all of them).
ALL = "*"


@dataclass(frozen=True, slots=True)
class ConversationEvent:
    """One event of one conversation.

    Attributes:
        conversation_id: The conversation it belongs to.
        kind: ``message`` (a message to show: ``data`` has ``text``, ``sender``,
            ``sender_name``, ``language``, ``action``, ``intent``), ``typing``, or
            ``ticket`` (a ticket changed: ``data`` has its id and status).
        data: The event's JSON-ready content.
    """

    conversation_id: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class EventBus(Protocol):
    """Publishes events to the subscribers of a conversation, in any process."""

    async def publish(self, event: ConversationEvent) -> None:
        """Send ``event`` to every subscriber of its conversation (and of :data:`ALL`)."""

    def subscribe(self, conversation_id: str) -> Any:
        """An async context manager yielding an async iterator of the conversation's events.

        ``subscribe(ALL)`` receives every conversation's events.
        """


class LocalEventBus:
    """The in-process event bus: one queue per subscriber."""

    def __init__(self, queue_size: int = 256) -> None:
        self._queues: defaultdict[str, set[asyncio.Queue[ConversationEvent]]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, event: ConversationEvent) -> None:
        """Put ``event`` on every subscriber's queue; a full queue drops its oldest event."""
        for key in (event.conversation_id, ALL):
            for queue in tuple(self._queues.get(key, ())):
                if queue.full():
                    queue.get_nowait()
                    log.warning("event queue of %s full: oldest event dropped", key)
                queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(
        self, conversation_id: str
    ) -> AsyncIterator[AsyncIterator[ConversationEvent]]:
        """Receive the events of ``conversation_id`` (or :data:`ALL`) while inside."""
        queue: asyncio.Queue[ConversationEvent] = asyncio.Queue(self._queue_size)
        self._queues[conversation_id].add(queue)

        async def events() -> AsyncIterator[ConversationEvent]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            self._queues[conversation_id].discard(queue)
            if not self._queues[conversation_id]:
                del self._queues[conversation_id]

    def subscribers(self, conversation_id: str) -> int:
        """How many subscribers ``conversation_id`` has now."""
        return len(self._queues.get(conversation_id, ()))


#: A channel's sender: the conversation's channel chat id and the message to send.
Sender = Callable[[str, Outgoing], Awaitable[None]]


def message_event(conversation_id: str, outgoing: Outgoing) -> ConversationEvent:
    """The ``message`` event that shows ``outgoing`` in the conversation."""
    return ConversationEvent(
        conversation_id,
        "message",
        {
            "text": outgoing.text,
            "language": outgoing.language,
            "intent": outgoing.intent,
            "action": outgoing.action.value,
            "sender": outgoing.sender,
            "sender_name": outgoing.sender_name,
            "suggestions": list(outgoing.suggestions),
            **({"details": dict(outgoing.details)} if outgoing.details else {}),
        },
    )


class Delivery:
    """Sends later messages (agents, the bot after a ticket) to a conversation's channel."""

    def __init__(self, events: EventBus) -> None:
        self.events = events
        self._senders: dict[Channel, Sender] = {}

    def register(self, channel: Channel, sender: Sender) -> None:
        """Let ``sender`` deliver the messages of ``channel``'s conversations."""
        self._senders[channel] = sender

    def unregister(self, channel: Channel) -> None:
        """Forget the sender of ``channel`` (the channel stopped)."""
        self._senders.pop(channel, None)

    async def deliver(
        self, conversation_id: str, channel: str, chat_id: str | None, outgoing: Outgoing
    ) -> None:
        """Publish ``outgoing`` and send it on the conversation's channel, if it has a sender.

        A failing channel sender is logged, not raised: the message is stored and
        published already, and the console must not fail because Telegram did.
        """
        await self.events.publish(message_event(conversation_id, outgoing))
        sender = self._senders.get(Channel(channel)) if channel in set(Channel) else None
        if sender is None or chat_id is None:
            return
        try:
            await sender(chat_id, outgoing)
        except Exception:
            log.exception("delivery to %s chat %s failed", channel, chat_id)
