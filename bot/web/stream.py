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
from collections.abc import AsyncIterator, Awaitable, Callable
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


#: What a stream shows of an event: its SSE kind and data, or ``None`` to leave it out.
Show = Callable[[ConversationEvent], tuple[str, dict[str, Any]] | None]
#: Called once per heartbeat: ``None`` to go on, or a last event to end the stream with.
Check = Callable[[], Awaitable[tuple[str, dict[str, Any]] | None]]


def _as_is(event: ConversationEvent) -> tuple[str, dict[str, Any]]:
    return event.kind, event.data


async def event_stream(
    events: EventBus,
    conversation_id: str,
    heartbeat: float,
    *,
    show: Show = _as_is,
    check: Check | None = None,
) -> AsyncIterator[str]:
    """Yield the conversation's events as SSE text, with a ping after each silence.

    Args:
        events: The bus to subscribe to.
        conversation_id: The conversation (or :data:`bot.events.ALL`).
        heartbeat: Seconds of silence before a ping.
        show: What to send of each event (default: its kind and data).
        check: Called once per ``heartbeat`` seconds, busy or not; a last event it
            returns ends the stream (the agent stream: the session has ended).
    """
    clock = asyncio.get_running_loop().time
    async with events.subscribe(conversation_id) as stream:
        yield sse("ready", {"heartbeat": heartbeat})
        iterator: AsyncIterator[ConversationEvent] = aiter(stream)

        async def next_event() -> ConversationEvent:
            return await anext(iterator)

        pending: asyncio.Task[ConversationEvent] | None = None
        checked = clock()
        try:
            while True:
                # One waiting task across pings: cancelling the bus's iterator would end it.
                pending = pending or asyncio.create_task(next_event())
                done, _ = await asyncio.wait({pending}, timeout=heartbeat)
                if check is not None and clock() - checked >= heartbeat:
                    checked = clock()
                    last = await check()
                    if last is not None:
                        yield sse(*last)
                        return
                if not done:
                    yield PING
                    continue
                event, pending = pending.result(), None
                shown = show(event)
                if shown is not None:
                    yield sse(*shown)
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
