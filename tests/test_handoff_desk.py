"""The agents' side on SQLite and PostgreSQL: claims, replies, transfers, closing, rating."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.app import Components
from bot.core import Action, Channel, Outgoing
from bot.handoff.agents import AgentDirectory
from bot.handoff.errors import (
    AgentExists,
    AtCapacity,
    BadTransfer,
    InvalidSession,
    NotYourTicket,
    QueueEmpty,
    SessionExpired,
    TicketClosed,
    TicketTaken,
    WrongLogin,
)
from bot.handoff.models import Agent, Rating, Ticket
from bot.handoff.sla import Priority
from tests.handoff_helpers import DAYTIME, handoff_on


async def test_claim_reply_close_and_rate(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    sent: list[tuple[str, Outgoing]] = []

    async def telegram(chat_id: str, outgoing: Outgoing) -> None:
        sent.append((chat_id, outgoing))

    bot_on.delivery.register(Channel.TELEGRAM, telegram)
    info = await bot_on.store.open_chat(Channel.TELEGRAM, "4242")
    await handoff.say(info.id, "Ich möchte mit einem Menschen sprechen")
    anna = await handoff.agent("anna", ("de", "en"))
    async with bot_on.events.subscribe(info.id) as events:
        ticket = await handoff.desk.take_next(anna)
        joined = await anext(events)
        await handoff.desk.reply(anna, ticket.id, "Guten Tag, ich sehe mir das an.")
        reply = await anext(events)
    assert ticket.status == "assigned" and ticket.language == "de"
    assert joined.data["action"] == "handoff" and "Anna" in joined.data["text"]
    assert reply.data["sender"] == "agent" and reply.data["sender_name"] == "Anna"
    assert reply.data["action"] == Action.AGENT.value
    assert [(chat, o.sender) for chat, o in sent] == [("4242", "bot"), ("4242", "agent")]
    # The customer answers: relayed, no bot reply after the first acknowledgement.
    assert [r.action for r in await handoff.say(info.id, "Danke!")] == [Action.HANDOFF]
    assert await handoff.say(info.id, "Bestellung ORD20240001") == []
    (row,) = await handoff.tickets(info.id)
    assert row.status == "assigned"
    await handoff.desk.close(anna, ticket.id, "Explained the delivery estimate.")
    rating_request = sent[-1][1]
    assert rating_request.suggestions == ("1", "2", "3", "4", "5")
    assert "1" in rating_request.text and "5" in rating_request.text
    (thanks,) = await handoff.say(info.id, "4 sehr hilfreich")
    assert thanks.intent == "rating"
    (row,) = await handoff.tickets(info.id)
    assert (row.status, row.resolution_note) == ("resolved", "Explained the delivery estimate.")
    sessions = async_sessionmaker(bot_on.engine)
    async with sessions() as session:
        rating = await session.scalar(select(Rating).where(Rating.ticket_id == ticket.id))
    assert rating is not None and (rating.score, rating.comment) == (4, "sehr hilfreich")
    transcript = [(m.sender, m.text) for m in await bot_on.store.transcript(info.id)]
    assert ("agent", "Guten Tag, ich sehe mir das an.") in transcript
    assert ("customer", "Bestellung ORD20240001") in transcript
    with pytest.raises(TicketClosed):
        await handoff.desk.reply(anna, ticket.id, "one more thing")
    with pytest.raises(TicketClosed):
        await handoff.desk.close(anna, ticket.id, "again")


@pytest.mark.parametrize(
    ("comment", "stored"),
    [
        ("Quick and friendly", "Quick and friendly"),
        ("nah, nothing to add", None),  # a "no": stored as the comment until 2026-12-08
    ],
)
async def test_a_rating_alone_asks_for_a_comment(
    bot_on: Components, comment: str, stored: str | None
) -> None:
    handoff = handoff_on(bot_on)
    conversation = await handoff.conversation()
    await handoff.say(conversation, "I want to talk to a person")
    ben = await handoff.agent("ben")
    ticket = await handoff.desk.take_next(ben)
    await handoff.desk.close(ben, ticket.id, "done")
    (ask,) = await handoff.say(conversation, "5")
    assert ask.intent == "rating" and "comment" in ask.text
    (thanks,) = await handoff.say(conversation, comment)
    assert thanks.intent == "rating"
    async with async_sessionmaker(bot_on.engine)() as session:
        rating = await session.scalar(select(Rating))
    assert rating is not None and (rating.score, rating.comment) == (5, stored)
    (answer,) = await handoff.say(conversation, "What is your email address?")
    assert answer.intent == "faq_contact_email"


async def test_claims_follow_priority_language_and_capacity(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    regular, urgent, german = [await handoff.conversation() for _ in range(3)]
    await handoff.say(regular, "I want to talk to a person")
    handoff.clock.advance(minutes=1)
    await handoff.say(
        urgent, "I cancelled my order two weeks ago and the refund still hasn't arrived"
    )
    await handoff.say(german, "Ich möchte mit einem Menschen sprechen")
    solo = await handoff.agent("solo", ("en",), max_chats=1)
    first = await handoff.desk.take_next(solo)
    assert first.priority == Priority.URGENT and first.conversation_id == urgent
    with pytest.raises(AtCapacity):
        await handoff.desk.take_next(solo)
    other = await handoff.agent("other", ("en",))
    assert (await handoff.desk.take_next(other)).conversation_id == regular
    with pytest.raises(QueueEmpty):
        await handoff.desk.take_next(other)
    queue = await handoff.desk.queue(other)
    assert [t.conversation_id for t in queue] == [regular]  # their own; German is not theirs
    german_ticket = (await handoff.tickets(german))[0]
    with pytest.raises(TicketTaken):
        await handoff.desk.claim(other, first.id)
    with pytest.raises(NotYourTicket):
        await handoff.desk.reply(other, first.id, "hi")
    assert (await handoff.desk.claim(other, german_ticket.id)).status == "assigned"


async def test_transfer_to_an_agent_or_a_language(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    conversation = await handoff.conversation()
    await handoff.say(conversation, "I want to talk to a person")
    anna, ben = await handoff.agent("anna", ("en",)), await handoff.agent("ben", ("en", "ko"))
    ticket = await handoff.desk.take_next(anna)
    moved = await handoff.desk.transfer(anna, ticket.id, to_login="ben")
    assert (moved.agent_id, moved.agent_name, moved.status) == (ben.id, "Ben", "assigned")
    with pytest.raises(NotYourTicket):
        await handoff.desk.reply(anna, ticket.id, "still mine?")
    with pytest.raises(BadTransfer):
        await handoff.desk.transfer(ben, ticket.id, to_login="nobody")
    with pytest.raises(BadTransfer):
        await handoff.desk.transfer(ben, ticket.id)
    requeued = await handoff.desk.transfer(ben, ticket.id, language="ko")
    assert (requeued.language, requeued.status, requeued.agent_id) == ("ko", "queued", None)
    with pytest.raises(QueueEmpty):
        await handoff.desk.take_next(anna)
    assert (await handoff.desk.take_next(ben)).id == ticket.id


async def test_an_offline_agents_tickets_return_to_the_queue(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    conversation = await handoff.conversation()
    await handoff.say(conversation, "I want to talk to a person")
    anna = await handoff.agent("anna")
    ticket = await handoff.desk.take_next(anna)
    handoff.clock.advance(minutes=1)
    assert await handoff.desk.release_offline() == 0
    handoff.clock.advance(minutes=5)
    ben = await handoff.agent("ben")  # logging in marks Ben, not Anna, as seen
    assert (await handoff.desk.take_next(ben)).id == ticket.id  # released on the way
    with pytest.raises(NotYourTicket):
        await handoff.desk.reply(anna, ticket.id, "I'm back")


async def test_sessions_passwords_and_accounts(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    directory: AgentDirectory = handoff.agents
    await directory.add("Anna", "Anna", "correct horse battery", ["en", "zh-TW"], 2)
    with pytest.raises(AgentExists):
        await directory.add("anna", "Anna 2", "correct horse battery", ["en"])
    with pytest.raises(ValueError, match="language"):
        await directory.add("fr", "Fr", "correct horse battery", ["fr"])
    with pytest.raises(WrongLogin):
        await directory.login("anna", "wrong password")
    with pytest.raises(WrongLogin):
        await directory.login("nobody", "correct horse battery")
    agent, token, expires = await directory.login("anna", "correct horse battery")
    assert agent.languages == ("en", "zh-Hant") and expires > DAYTIME
    async with async_sessionmaker(bot_on.engine)() as session:
        stored = await session.scalar(select(Agent))
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert (await directory.authenticate(token)).login == "anna"
    with pytest.raises(InvalidSession):
        await directory.authenticate(token[:-2] + "xx")
    with pytest.raises(InvalidSession):
        await directory.authenticate(None)
    handoff.clock.advance(hours=13)
    with pytest.raises(SessionExpired):
        await directory.authenticate(token)
    _, fresh, _ = await directory.login("anna", "correct horse battery")
    await directory.disable("anna")
    with pytest.raises(InvalidSession):
        await directory.authenticate(fresh)
    with pytest.raises(WrongLogin):
        await directory.login("anna", "correct horse battery")
    await directory.logout(fresh)


async def test_concurrent_claimers_never_take_the_same_ticket(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    sessions = async_sessionmaker(bot_on.engine)
    conversations = [await handoff.conversation() for _ in range(30)]
    async with sessions.begin() as session:
        for index, conversation in enumerate(conversations):
            session.add(
                Ticket(
                    conversation_id=conversation,
                    channel="web",
                    language="en",
                    priority="regular",
                    priority_rank=2,
                    reason="asked",
                    sla_deadline=DAYTIME + timedelta(minutes=index),
                    summary={},
                    status="queued",
                    created_at=DAYTIME,
                    updated_at=DAYTIME,
                )
            )
    agents = await asyncio.gather(*(handoff.agent(f"agent{i}", max_chats=2) for i in range(20)))

    async def claim_all(agent):  # type: ignore[no-untyped-def]
        taken = []
        while True:
            try:
                taken.append((await handoff.desk.take_next(agent)).id)
            except (QueueEmpty, AtCapacity):
                return taken

    results = await asyncio.gather(*(claim_all(agent) for agent in agents))
    claimed = [ticket for taken in results for ticket in taken]
    assert len(claimed) == len(set(claimed)) == 30
    async with sessions() as session:
        rows = list(await session.scalars(select(Ticket)))
    owners = {row.id: row.agent_id for row in rows}
    for agent, taken in zip(agents, results, strict=True):
        assert len(taken) <= 2
        assert all(owners[ticket] == agent.id for ticket in taken)
    assert all(row.status == "assigned" for row in rows)
