"""The agents' side of the handoff: the queue, claiming, replying, transferring, closing.

Claims never collide: "take next" locks the agent's row (their parallel-chat limit)
and then the most urgent queued ticket in one of their languages with ``SELECT ... FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent claimers each get a different
ticket; SQLite's write lock (``BEGIN IMMEDIATE``) serializes them. Locks are always
taken in the same order as a customer's turn (conversation, then ticket), so the two
never deadlock.

Every message to the customer (an agent's reply, "an agent joined", the rating request
after closing) is stored in the conversation first and then handed to
:class:`bot.events.Delivery`: the web chat's stream gets it live, Telegram a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core import Action, Outgoing, Reply
from bot.events import ConversationEvent, Delivery
from bot.handoff import texts
from bot.handoff import tickets as q
from bot.handoff.agents import AgentInfo
from bot.handoff.errors import (
    AtCapacity,
    BadTransfer,
    NotYourTicket,
    QueueEmpty,
    TicketClosed,
    TicketNotFound,
    TicketTaken,
)
from bot.handoff.flow import KEY
from bot.handoff.models import Agent, Ticket
from bot.handoff.outbox import Pending, stage, stage_bot_reply
from bot.handoff.tickets import TicketView, agent_name, view
from bot.i18n import Localizer
from bot.language import normalize_tag
from bot.storage.models import Conversation, Message
from bot.storage.store import StoredMessage, stored_message

RATING_SCORES = ("1", "2", "3", "4", "5")


class AgentDesk:
    """What agents do with tickets; see the module docstring."""

    def __init__(
        self,
        engine: AsyncEngine,
        delivery: Delivery,
        localizer: Localizer,
        *,
        offline_after: timedelta = timedelta(minutes=2),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._delivery = delivery
        self._localizer = localizer
        self._offline_after = offline_after
        self._clock = clock

    def now(self) -> datetime:
        """The desk's clock (the console counts SLA deadlines down from it)."""
        return self._clock()

    # -- reading -------------------------------------------------------------------------
    async def queue(self, agent: AgentInfo) -> list[TicketView]:
        """The queued tickets in the agent's languages (most urgent first) and their own."""
        await self.release_offline()
        async with self._sessions() as session:
            rows = await session.execute(
                select(Ticket, Agent.name)
                .outerjoin(Agent, Agent.id == Ticket.agent_id)
                .where(
                    ((Ticket.status == q.QUEUED) & Ticket.language.in_(agent.languages))
                    | ((Ticket.agent_id == agent.id) & Ticket.status.in_(q.WITH_AGENT))
                )
                .order_by(Ticket.priority_rank, Ticket.sla_deadline, Ticket.id)
            )
            return [view(ticket, name) for ticket, name in rows]

    async def ticket(
        self, agent: AgentInfo, ticket_id: int
    ) -> tuple[TicketView, list[StoredMessage]]:
        """A ticket and its conversation's full transcript.

        An agent sees the tickets assigned to them and the queued tickets of their
        languages (to decide to take one); no other ticket's transcript.

        Raises:
            TicketNotFound: No ticket has that id.
            NotYourTicket: The ticket is another agent's, or queued for another language.
        """
        async with self._sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise TicketNotFound(str(ticket_id))
            claimable = ticket.status == q.QUEUED and ticket.language in agent.languages
            if ticket.agent_id != agent.id and not claimable:
                raise NotYourTicket(str(ticket_id))
            name = await agent_name(session, ticket.agent_id)
            rows = await session.scalars(
                select(Message)
                .where(Message.conversation_id == ticket.conversation_id)
                .order_by(Message.id)
            )
            transcript = [stored_message(row) for row in rows]
        return view(ticket, name), transcript

    def canned(self, agent: AgentInfo, language: str) -> list[str]:
        """The canned replies in ``language`` (the ticket's), signed with the agent's name."""
        return [
            self._localizer.render(language, Reply(message, {"agent": agent.name}))
            for message in texts.CANNED
        ]

    # -- claiming --------------------------------------------------------------------------
    async def take_next(self, agent: AgentInfo) -> TicketView:
        """Claim the most urgent queued ticket in the agent's languages.

        Raises:
            AtCapacity: The agent has their limit of parallel chats.
            QueueEmpty: No ticket is waiting in their languages.
        """
        await self.release_offline()
        async with self._sessions.begin() as session:
            await self._check_capacity(session, agent)
            ticket = await session.scalar(
                select(Ticket)
                .where(Ticket.status == q.QUEUED, Ticket.language.in_(agent.languages))
                .order_by(Ticket.priority_rank, Ticket.sla_deadline, Ticket.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if ticket is None:
                raise QueueEmpty(agent.login)
            pending = await self._assign(session, ticket, agent)
        await pending.deliver(self._delivery)
        return view(ticket, agent.name)

    async def claim(self, agent: AgentInfo, ticket_id: int) -> TicketView:
        """Claim one given ticket.

        Raises:
            TicketNotFound: No ticket has that id.
            TicketTaken: Another agent has it (or is claiming it right now).
            TicketClosed: It is resolved or cancelled.
            AtCapacity: The agent has their limit of parallel chats.
        """
        async with self._sessions.begin() as session:
            await self._check_capacity(session, agent)
            ticket = await session.scalar(
                select(Ticket).where(Ticket.id == ticket_id).with_for_update(skip_locked=True)
            )
            if ticket is None:
                if await session.get(Ticket, ticket_id) is None:
                    raise TicketNotFound(str(ticket_id))
                raise TicketTaken(str(ticket_id))
            if ticket.status in (q.RESOLVED, q.CANCELLED):
                raise TicketClosed(str(ticket_id))
            if ticket.status != q.QUEUED:
                raise TicketTaken(str(ticket_id))
            pending = await self._assign(session, ticket, agent)
        await pending.deliver(self._delivery)
        return view(ticket, agent.name)

    async def _check_capacity(self, session: AsyncSession, agent: AgentInfo) -> None:
        row = await session.scalar(select(Agent).where(Agent.id == agent.id).with_for_update())
        limit = row.max_chats if row is not None else agent.max_chats
        count = await session.scalar(
            select(func.count(Ticket.id)).where(
                Ticket.agent_id == agent.id, Ticket.status.in_(q.WITH_AGENT)
            )
        )
        if int(count or 0) >= limit:
            raise AtCapacity(agent.login)

    async def _assign(self, session: AsyncSession, ticket: Ticket, agent: AgentInfo) -> Pending:
        now = self._clock()
        ticket.status, ticket.agent_id = q.ASSIGNED, agent.id
        ticket.assigned_at = ticket.updated_at = now
        reply = Reply(texts.AGENT_JOINED, {"agent": agent.name})
        return await stage_bot_reply(session, self._localizer, ticket, reply, Action.HANDOFF, now)

    # -- talking and closing ------------------------------------------------------------
    async def reply(self, agent: AgentInfo, ticket_id: int, text: str) -> None:
        """Send the agent's message to the customer (stored, then delivered).

        Raises:
            TicketNotFound, TicketClosed, NotYourTicket: See :mod:`bot.handoff.errors`.
        """
        async with self._sessions.begin() as session:
            ticket = await self._own(session, agent, ticket_id)
            ticket.status, ticket.updated_at = q.WAITING, self._clock()
            outgoing = Outgoing(
                text=text,
                language=ticket.language,
                intent=None,
                action=Action.AGENT,
                sender="agent",
                sender_name=agent.name,
            )
            pending = await stage(session, ticket, outgoing, self._clock())
        await pending.deliver(self._delivery)

    async def close(self, agent: AgentInfo, ticket_id: int, note: str) -> TicketView:
        """Resolve the ticket with a note; the bot takes over and asks for a rating.

        Raises:
            TicketNotFound, TicketClosed, NotYourTicket: See :mod:`bot.handoff.errors`.
        """
        async with self._sessions.begin() as session:
            conversation_id = await session.scalar(
                select(Ticket.conversation_id).where(Ticket.id == ticket_id)
            )
            if conversation_id is None:
                raise TicketNotFound(str(ticket_id))
            conversation = await session.scalar(
                select(Conversation).where(Conversation.id == conversation_id).with_for_update()
            )
            ticket = await self._own(session, agent, ticket_id)
            now = self._clock()
            ticket.status, ticket.resolution_note = q.RESOLVED, note
            ticket.closed_at = ticket.updated_at = now
            if conversation is not None:
                state = dict(conversation.state or {})
                state[KEY] = {"rating": ticket.id}
                conversation.state = state
            pending = await stage_bot_reply(
                session,
                self._localizer,
                ticket,
                Reply(texts.RATING_REQUEST),
                Action.ANSWER,
                now,
                RATING_SCORES,
            )
        await pending.deliver(self._delivery)
        await self._delivery.events.publish(
            ConversationEvent(
                ticket.conversation_id, "ticket", {"id": ticket.id, "status": q.RESOLVED}
            )
        )
        return view(ticket, agent.name)

    async def transfer(
        self,
        agent: AgentInfo,
        ticket_id: int,
        *,
        to_login: str | None = None,
        language: str | None = None,
    ) -> TicketView:
        """Pass the ticket to another agent, or back to the queue of another language.

        Raises:
            BadTransfer: Neither given, an unknown language, or the agent cannot take it.
            TicketNotFound, TicketClosed, NotYourTicket: See :mod:`bot.handoff.errors`.
        """
        async with self._sessions.begin() as session:
            ticket = await self._own(session, agent, ticket_id)
            now = self._clock()
            if to_login:
                target = await session.scalar(
                    select(Agent).where(Agent.login == to_login.strip().lower()).with_for_update()
                )
                if target is None or not target.active or target.id == agent.id:
                    raise BadTransfer("no such other active agent")
                held = await session.scalar(
                    select(func.count(Ticket.id)).where(
                        Ticket.agent_id == target.id, Ticket.status.in_(q.WITH_AGENT)
                    )
                )
                if int(held or 0) >= target.max_chats:
                    raise BadTransfer("the other agent is at their limit of parallel chats")
                ticket.agent_id, ticket.status, ticket.assigned_at = target.id, q.ASSIGNED, now
                name: str | None = target.name
            elif language:
                tag = normalize_tag(language)
                if tag is None:
                    raise BadTransfer(f"unsupported language: {language}")
                ticket.language, ticket.agent_id, ticket.status = tag, None, q.QUEUED
                name = None
            else:
                raise BadTransfer("name an agent or a language")
            ticket.updated_at = now
            pending = await stage_bot_reply(
                session,
                self._localizer,
                ticket,
                Reply(texts.TRANSFERRED),
                Action.HANDOFF,
                self._clock(),
            )
        await pending.deliver(self._delivery)
        return view(ticket, name)

    async def release_offline(self) -> int:
        """Return the tickets of agents not seen for the offline period to the queue."""
        cutoff = self._clock() - self._offline_after
        async with self._sessions.begin() as session:
            offline = select(Agent.id).where(
                (Agent.last_seen.is_(None)) | (Agent.last_seen < cutoff) | Agent.active.is_(False)
            )
            result = await session.execute(
                update(Ticket)
                .where(Ticket.status.in_(q.WITH_AGENT), Ticket.agent_id.in_(offline))
                .values(status=q.QUEUED, agent_id=None, updated_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # -- helpers -----------------------------------------------------------------------------
    async def _own(self, session: AsyncSession, agent: AgentInfo, ticket_id: int) -> Ticket:
        ticket = await session.scalar(
            select(Ticket).where(Ticket.id == ticket_id).with_for_update()
        )
        if ticket is None:
            raise TicketNotFound(str(ticket_id))
        if ticket.status in (q.RESOLVED, q.CANCELLED):
            raise TicketClosed(str(ticket_id))
        if ticket.agent_id != agent.id:
            raise NotYourTicket(str(ticket_id))
        return ticket
