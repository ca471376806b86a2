"""Helpers of the handoff tests: a pipeline and a desk with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.app import Components
from bot.core import Channel, Incoming, Outgoing
from bot.handoff.agents import AgentDirectory, AgentInfo
from bot.handoff.desk import AgentDesk
from bot.handoff.flow import HandoffFlow
from bot.handoff.models import Ticket
from bot.orders.flow import OrderFlow
from bot.pipeline import Pipeline

#: Wednesday 25 November 2026, 15:00 in Hong Kong: in service hours, a working day.
DAYTIME = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
#: Thursday 26 November 2026, 02:00 in Hong Kong: agents are off.
NIGHT = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Handoff:
    """A bot's pipeline, desk and agents, all on one clock."""

    bot: Components
    clock: Clock
    pipeline: Pipeline
    desk: AgentDesk
    agents: AgentDirectory

    async def conversation(
        self, channel: Channel = Channel.WEB, timezone: str | None = None
    ) -> str:
        info, _ = await self.bot.store.create_conversation(channel, timezone=timezone)
        return info.id

    async def say(self, conversation: str, text: str, intent: str | None = None) -> list[Outgoing]:
        return await self.pipeline.handle(Incoming(conversation, text, intent=intent))

    async def tickets(self, conversation: str | None = None) -> list[Ticket]:
        sessions = async_sessionmaker(self.bot.engine, expire_on_commit=False)
        async with sessions() as session:
            query = select(Ticket).order_by(Ticket.id)
            if conversation is not None:
                query = query.where(Ticket.conversation_id == conversation)
            return list(await session.scalars(query))

    async def agent(
        self, login: str, languages: tuple[str, ...] = ("en",), max_chats: int = 3
    ) -> AgentInfo:
        await self.agents.add(login, login.title(), "correct horse battery", languages, max_chats)
        agent, _, _ = await self.agents.login(login, "correct horse battery")
        return agent


def handoff_on(bot: Components, now: datetime = DAYTIME) -> Handoff:
    clock: Callable[[], datetime] = Clock(now)
    assert isinstance(clock, Clock)
    flow = HandoffFlow(bot.events, bot.localizer, clock=clock)
    orders = OrderFlow(bot.orders, clock=clock)
    pipeline = Pipeline(
        bot.store, bot.detector, bot.nlu, bot.nlu, bot.localizer, orders, flow, clock=clock
    )
    desk = AgentDesk(bot.engine, bot.delivery, bot.localizer, clock=clock)
    return Handoff(bot, clock, pipeline, desk, AgentDirectory(bot.engine, clock=clock))
