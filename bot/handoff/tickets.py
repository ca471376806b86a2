"""Ticket queries shared by the customer side and the agent side (one session each).

Position and expected wait: a ticket's position counts the queued tickets of its
language ahead of it (priority, then SLA deadline, then age) plus one. The expected wait
is the position divided by the agents of that language now online, times
``minutes_per_ticket`` (Live Chat's "an agent joins within 1-5 minutes": 5 by
default); outside service hours the time until agents are back is added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.agents import aware
from bot.handoff.models import Agent, Ticket
from bot.handoff.sla import next_opening

QUEUED = "queued"
ASSIGNED = "assigned"
WAITING = "waiting_customer"
RESOLVED = "resolved"
CANCELLED = "cancelled"
OPEN = (QUEUED, ASSIGNED, WAITING)
WITH_AGENT = (ASSIGNED, WAITING)


#: The condition "the ticket is open", as plain comparisons: ``status IN (...)`` with a
#: tuple is an expanding parameter, which SQLAlchemy renders into the SQL again at every
#: execution; this one is compiled once and cached (it runs with every message).
IS_OPEN = or_(*(Ticket.status == status for status in OPEN))


@dataclass(frozen=True, slots=True)
class Place:
    """Where a queued ticket stands."""

    position: int
    expected_wait_minutes: int


async def open_ticket(
    session: AsyncSession, conversation_id: str, *, lock: bool = False
) -> Ticket | None:
    """The conversation's open ticket (queued, assigned or waiting), if any."""
    query = (
        select(Ticket)
        .where(Ticket.conversation_id == conversation_id, IS_OPEN)
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


#: A scalar query: the id of the open ticket of ``bindparam("conversation_id")``, or NULL.
OPEN_TICKET_ID = (
    select(Ticket.id)
    .where(Ticket.conversation_id == bindparam("conversation_id"), IS_OPEN)
    .order_by(Ticket.id.desc())
    .limit(1)
    .scalar_subquery()
)


async def had_ticket(session: AsyncSession, conversation_id: str) -> bool:
    """Whether the conversation ever had a ticket."""
    count = await session.scalar(
        select(func.count(Ticket.id)).where(Ticket.conversation_id == conversation_id)
    )
    return bool(count)


async def online_agents(
    session: AsyncSession, language: str, now: datetime, offline_after: timedelta
) -> int:
    """Active agents speaking ``language`` seen within ``offline_after``."""
    rows = await session.scalars(
        select(Agent).where(Agent.active.is_(True), Agent.last_seen >= now - offline_after)
    )
    return sum(1 for agent in rows if language in (agent.languages or []))


async def place(
    session: AsyncSession,
    ticket: Ticket,
    now: datetime,
    *,
    offline_after: timedelta,
    minutes_per_ticket: int,
) -> Place:
    """The ticket's position in its language's queue and the expected wait."""
    ahead = await session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.status == QUEUED,
            Ticket.language == ticket.language,
            Ticket.id != ticket.id,
            or_(
                Ticket.priority_rank < ticket.priority_rank,
                and_(
                    Ticket.priority_rank == ticket.priority_rank,
                    or_(
                        Ticket.sla_deadline < ticket.sla_deadline,
                        and_(Ticket.sla_deadline == ticket.sla_deadline, Ticket.id < ticket.id),
                    ),
                ),
            ),
        )
    )
    position = int(ahead or 0) + 1
    agents = max(1, await online_agents(session, ticket.language, now, offline_after))
    minutes = math.ceil(position / agents) * minutes_per_ticket
    back = next_opening(now)
    if back > now:
        minutes += math.ceil((back - now).total_seconds() / 60)
    return Place(position, minutes)


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as the console shows it."""

    id: int
    conversation_id: str
    channel: str
    language: str
    priority: str
    reason: str
    status: str
    sla_deadline: datetime
    created_at: datetime
    agent_id: int | None
    agent_name: str | None
    summary: dict[str, Any]
    resolution_note: str | None


async def agent_name(session: AsyncSession, agent_id: int | None) -> str | None:
    """The name of the agent with ``agent_id`` (``None`` for none)."""
    if agent_id is None:
        return None
    return await session.scalar(select(Agent.name).where(Agent.id == agent_id))


def view(ticket: Ticket, agent_name: str | None) -> TicketView:
    """The console's view of a ticket row."""
    return TicketView(
        id=ticket.id,
        conversation_id=ticket.conversation_id,
        channel=ticket.channel,
        language=ticket.language,
        priority=ticket.priority,
        reason=ticket.reason,
        status=ticket.status,
        sla_deadline=aware(ticket.sla_deadline),
        created_at=aware(ticket.created_at),
        agent_id=ticket.agent_id,
        agent_name=agent_name,
        summary=dict(ticket.summary or {}),
        resolution_note=ticket.resolution_note,
    )


async def queue_figures(session: AsyncSession, now: datetime) -> tuple[dict[str, int], int]:
    """Queued tickets per priority, and open tickets past their SLA deadline (for metrics)."""
    rows = await session.execute(
        select(Ticket.priority, func.count())
        .where(Ticket.status == QUEUED)
        .group_by(Ticket.priority)
    )
    queued = {str(priority): int(count) for priority, count in rows}
    breached = await session.scalar(select(func.count()).where(IS_OPEN, Ticket.sla_deadline < now))
    return queued, int(breached or 0)
