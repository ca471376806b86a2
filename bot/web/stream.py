"""The live stream of a web chat conversation: Server-Sent Events.

``GET /api/v1/conversations/{id}/events`` sends what happens in the conversation after
the customer's own requests (an agent's reply, the bot speaking again after a ticket)
as ``text/event-stream``. SSE rather than a WebSocket: the stream only flows one way
(the customer speaks with ``POST .../messages``), it is plain HTTP through every proxy
and load balancer, and the browser reads it with ``fetch()``, so the bearer token
travels in the ``Authorization`` header, never in a URL (neither ``EventSource`` nor a
browser WebSocket can set that header).

The stream starts with a ``ready`` event (``{"heartbeat": seconds}``), sent once the
subscription is live; then one event per :class:`~bot.events.ConversationEvent`
(``event:`` its kind, ``data:`` its JSON), and a ``: ping`` comment after every
``heartbeat`` seconds of silence, so idle proxies keep it open and the client notices
a dead connection. Events carry no id: a client that reconnects fetches the transcript
(``GET .../messages``) to fill what it missed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from bot.app import Components
from bot.events import ConversationEvent, EventBus
from bot.web.api import ERRORS, _verify

PING = ": ping\n\n"
EXAMPLE = (
    'event: ready\ndata: {"heartbeat": 15.0}\n\n'
    ": ping\n\n"
    'event: message\ndata: {"text": "Hello, I am Anna. How can I help?", "language": "en", '
    '"intent": null, "action": "agent", "sender": "agent", "sender_name": "Anna", '
    '"suggestions": []}\n\n'
)


def sse(kind: str, data: dict[str, Any]) -> str:
    """One event in the ``text/event-stream`` format (JSON never spans lines)."""
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def event_stream(
    events: EventBus, conversation_id: str, heartbeat: float
) -> AsyncIterator[str]:
    """Yield the conversation's events as SSE text, with a ping after each silence."""
    async with events.subscribe(conversation_id) as stream:
        yield sse("ready", {"heartbeat": heartbeat})
        iterator: AsyncIterator[ConversationEvent] = aiter(stream)

        async def next_event() -> ConversationEvent:
            return await anext(iterator)

        pending: asyncio.Task[ConversationEvent] | None = None
        try:
            while True:
                # One waiting task across pings: cancelling the bus's iterator would end it.
                pending = pending or asyncio.create_task(next_event())
                done, _ = await asyncio.wait({pending}, timeout=heartbeat)
                if not done:
                    yield PING
                    continue
                event, pending = pending.result(), None
                yield sse(event.kind, event.data)
        finally:
            if pending is not None:
                pending.cancel()


def events_router(bot: Components) -> APIRouter:
    """Build the route of the conversation event stream."""
    api = APIRouter(prefix="/api/v1", tags=["web chat"])
    errors: dict[int | str, dict[str, Any]] = {
        k: v for k, v in ERRORS.items() if k in (401, 404, 503)
    }

    @api.get(
        "/conversations/{conversation_id}/events",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "A stream of Server-Sent Events, open until the client "
                "leaves: `ready`, then `message` (data: text, sender `bot` or `agent`, "
                "sender_name, language, intent, action, suggestions), `typing` and "
                "`ticket` events, and a `: ping` comment after each silence of "
                "`WEBCHAT_HEARTBEAT_SECONDS`.",
                "content": {
                    "text/event-stream": {"schema": {"type": "string"}, "example": EXAMPLE}
                },
            },
            **errors,
        },
    )
    async def conversation_events(
        conversation_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> StreamingResponse:
        """Receive the conversation's later messages live (agents, the bot after a ticket).

        Send the bearer token in the `Authorization` header (read the stream with
        `fetch()`). Events have no ids: after a reconnection, fetch
        `GET /conversations/{id}/messages` for what was missed.
        """
        await _verify(bot, conversation_id, authorization)
        return StreamingResponse(
            event_stream(bot.events, conversation_id, bot.settings.webchat_heartbeat),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return api
