"""The agent API under ``/api/v1/agent``: log in, the queue, claim, reply, transfer, close.

``GET /events`` is a Server-Sent Events stream that says when a ticket changed (which
one, never what was said), so the console refreshes at once, whichever process the
change happened in (the event bus; Redis across processes).

Every route but ``login`` needs ``Authorization: Bearer <session token>``. Errors are
JSON like the rest of the API: 401 for a forged, expired or missing session, 403 for
another agent's ticket, 404 for no ticket (or an empty queue), 409 for a ticket already
taken or closed and for an agent at their limit of parallel chats, 422 for bad input.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.app import Components
from bot.events import ALL, ConversationEvent
from bot.handoff.agents import AgentInfo
from bot.handoff.errors import HandoffError, InvalidSession
from bot.handoff.tickets import TicketView
from bot.web.agent_schemas import (
    AgentOut,
    CloseIn,
    LoginIn,
    LoginOut,
    MessageOut,
    QueueOut,
    ReplyIn,
    TicketDetailOut,
    TicketOut,
    TransferIn,
)
from bot.web.api import ApiError, address_of
from bot.web.schemas import ErrorOut
from bot.web.stream import event_stream

log = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not valid JSON."},
    401: {"model": ErrorOut, "description": "Missing, forged or expired agent session."},
    403: {"model": ErrorOut, "description": "The ticket is another agent's."},
    404: {"model": ErrorOut, "description": "No such ticket, or no ticket waiting."},
    409: {"model": ErrorOut, "description": "Taken, closed, or the agent is at their limit."},
    422: {"model": ErrorOut, "description": "The request is malformed."},
}


def _api_error(error: HandoffError) -> ApiError:
    messages = {
        "invalid_session": "Missing or unknown agent session. Log in again.",
        "session_expired": "Your session has expired. Log in again.",
        "wrong_login": "Wrong login or password.",
        "ticket_not_found": "No ticket has this id.",
        "queue_empty": "No ticket is waiting in your languages.",
        "not_your_ticket": "This ticket is another agent's.",
        "ticket_taken": "Another agent has already taken this ticket.",
        "ticket_closed": "This ticket is closed; it takes no more replies.",
        "at_capacity": "You have reached your limit of parallel chats.",
        "bad_transfer": f"Cannot transfer: {error}.",
    }
    return ApiError(error.status, error.code, messages.get(error.code, str(error)))


def _agent_out(agent: AgentInfo) -> AgentOut:
    return AgentOut(
        id=agent.id,
        login=agent.login,
        name=agent.name,
        languages=list(agent.languages),
        max_chats=agent.max_chats,
    )


def _ticket_out(view: TicketView) -> TicketOut:
    return TicketOut(**asdict(view))


STREAM_EXAMPLE = (
    'event: ready\ndata: {"heartbeat": 15.0}\n\n'
    'event: ticket\ndata: {"ticket": 42}\n\n'
    ": ping\n\n"
    'event: ended\ndata: {"reason": "session_expired"}\n\n'
)


def ticket_change(event: ConversationEvent) -> tuple[str, dict[str, Any]] | None:
    """What the agent stream shows of an event: which ticket changed, never what was said.

    A ticket opened, cancelled or closed, and every message of a conversation with a
    ticket (the customer's, an agent's, the bot's), become ``ticket`` with the ticket's
    id (``None`` where the event does not name it); the console then reads what changed
    through the routes that check the agent may see it. Typing events are left out.
    """
    if event.kind == "ticket":
        return "ticket", {"ticket": event.data.get("id")}
    if event.kind == "message":
        return "ticket", {"ticket": event.data.get("ticket")}
    return None


def agent_router(bot: Components) -> APIRouter:
    """Build the ``/api/v1/agent`` routes around the built bot."""
    api = APIRouter(prefix="/api/v1/agent", tags=["agent console"], responses=ERRORS)

    async def agent_of(authorization: str | None) -> AgentInfo:
        scheme, _, token = (authorization or "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidSession("no bearer token")
            return await bot.agents.authenticate(token.strip())
        except HandoffError as error:
            raise _api_error(error) from None

    @api.post(
        "/login",
        response_model=LoginOut,
        responses={429: {"model": ErrorOut, "description": "Too many attempts; retry later."}},
    )
    async def login(credentials: LoginIn, request: Request) -> LoginOut:
        """Log in; the token is valid until ``expires_at``.

        Attempts are limited per login name and per address (`RATE_LIMIT_AGENT_LOGIN`,
        `RATE_LIMIT_PER_ADDRESS`): past them, 429 with `Retry-After`.
        """
        await bot.limits.check_login(address_of(request), credentials.login)
        try:
            agent, token, expires = await bot.agents.login(credentials.login, credentials.password)
        except HandoffError as error:
            raise _api_error(error) from None
        return LoginOut(token=token, expires_at=expires, agent=_agent_out(agent))

    @api.post("/logout", status_code=204)
    async def logout(authorization: Annotated[str | None, Header()] = None) -> None:
        """End the session (the agent's tickets return to the queue when they go offline)."""
        await agent_of(authorization)
        await bot.agents.logout((authorization or "").partition(" ")[2].strip())

    @api.get("/me", response_model=AgentOut)
    async def me(authorization: Annotated[str | None, Header()] = None) -> AgentOut:
        """The logged-in agent."""
        return _agent_out(await agent_of(authorization))

    @api.get("/queue", response_model=QueueOut)
    async def queue(authorization: Annotated[str | None, Header()] = None) -> QueueOut:
        """The queued tickets in the agent's languages and their own open tickets."""
        agent = await agent_of(authorization)
        tickets = await bot.desk.queue(agent)
        return QueueOut(tickets=[_ticket_out(t) for t in tickets], now=bot.desk.now())

    @api.get(
        "/events",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "A stream of Server-Sent Events, open until the client "
                "leaves or the session ends: `ready`, then `ticket` (data: `ticket`, the "
                "id of the ticket that changed, or null) whenever a ticket is opened, "
                "cancelled or closed or a message is said in a ticket's conversation; a "
                "`: ping` comment after each silence; `ended` (data: `reason`) when the "
                "session expires or is logged out.",
                "content": {
                    "text/event-stream": {"schema": {"type": "string"}, "example": STREAM_EXAMPLE}
                },
            }
        },
    )
    async def events(authorization: Annotated[str | None, Header()] = None) -> StreamingResponse:
        """Know when to refresh the queue or the open ticket, live, in any process.

        Events carry no text and no customer data: only the id of the ticket that
        changed. Read it with `GET /tickets/{id}`. While the stream is open the agent
        counts as online; the session is checked once per heartbeat.
        """
        await agent_of(authorization)

        async def still_logged_in() -> tuple[str, dict[str, Any]] | None:
            try:
                await agent_of(authorization)
            except ApiError as error:
                return "ended", {"reason": error.code}
            except SQLAlchemyError as error:  # the database is down: check again later
                log.warning("agent stream: session not checked (%s)", error.__class__.__name__)
            return None

        return StreamingResponse(
            event_stream(
                bot.events,
                ALL,
                bot.settings.webchat_heartbeat,
                show=ticket_change,
                check=still_logged_in,
            ),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @api.post("/tickets/next", response_model=TicketOut)
    async def take_next(authorization: Annotated[str | None, Header()] = None) -> TicketOut:
        """Claim the most urgent waiting ticket in one of the agent's languages."""
        agent = await agent_of(authorization)
        try:
            return _ticket_out(await bot.desk.take_next(agent))
        except HandoffError as error:
            raise _api_error(error) from None

    @api.post("/tickets/{ticket_id}/claim", response_model=TicketOut)
    async def claim(
        ticket_id: int, authorization: Annotated[str | None, Header()] = None
    ) -> TicketOut:
        """Claim one waiting ticket."""
        agent = await agent_of(authorization)
        try:
            return _ticket_out(await bot.desk.claim(agent, ticket_id))
        except HandoffError as error:
            raise _api_error(error) from None

    @api.get("/tickets/{ticket_id}", response_model=TicketDetailOut)
    async def ticket(
        ticket_id: int, authorization: Annotated[str | None, Header()] = None
    ) -> TicketDetailOut:
        """A ticket, its full transcript and canned replies in its language."""
        agent = await agent_of(authorization)
        try:
            view, transcript = await bot.desk.ticket(agent, ticket_id)
        except HandoffError as error:
            raise _api_error(error) from None
        return TicketDetailOut(
            ticket=_ticket_out(view),
            messages=[MessageOut(**asdict(m)) for m in transcript],
            canned=bot.desk.canned(agent, view.language),
        )

    @api.post("/tickets/{ticket_id}/messages", status_code=204)
    async def reply(
        ticket_id: int, body: ReplyIn, authorization: Annotated[str | None, Header()] = None
    ) -> None:
        """Send a message to the customer on their channel."""
        agent = await agent_of(authorization)
        text = body.text.strip()
        if not text:
            raise ApiError(422, "empty_message", "The message is empty.")
        try:
            await bot.desk.reply(agent, ticket_id, text)
        except HandoffError as error:
            raise _api_error(error) from None

    @api.post("/tickets/{ticket_id}/transfer", response_model=TicketOut)
    async def transfer(
        ticket_id: int, body: TransferIn, authorization: Annotated[str | None, Header()] = None
    ) -> TicketOut:
        """Pass the ticket to another agent or to the queue of another language."""
        agent = await agent_of(authorization)
        try:
            view = await bot.desk.transfer(
                agent, ticket_id, to_login=body.agent, language=body.language
            )
        except HandoffError as error:
            raise _api_error(error) from None
        return _ticket_out(view)

    @api.post("/tickets/{ticket_id}/close", response_model=TicketOut)
    async def close(
        ticket_id: int, body: CloseIn, authorization: Annotated[str | None, Header()] = None
    ) -> TicketOut:
        """Resolve the ticket with a note; the bot asks the customer for a rating."""
        agent = await agent_of(authorization)
        note = body.note.strip()
        if not note:
            raise ApiError(422, "empty_note", "The resolution note is empty.")
        try:
            return _ticket_out(await bot.desk.close(agent, ticket_id, note))
        except HandoffError as error:
            raise _api_error(error) from None

    return api
