"""The customer's side of the handoff, on SQLite and PostgreSQL: triggers, tickets, relay."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.app import Components
from bot.core import Action
from bot.events import ALL
from bot.handoff.agents import aware
from bot.handoff.sla import HONG_KONG
from tests.handoff_helpers import DAYTIME, NIGHT, handoff_on

ASK_PERSON = [
    ("en", "I want to talk to a person", "the expected wait is about 5 minutes."),
    ("de", "Ich möchte mit einem Menschen sprechen", "die Wartezeit beträgt etwa 5 Minuten."),
    ("ru", "Соедините меня с оператором", "ожидание — примерно 5 минут."),
    ("ko", "상담원과 통화하고 싶어요", "예상 대기 시간은 약 5분입니다."),
    ("zh-Hans", "我要转人工客服", "预计等待约 5分钟。"),
    ("zh-Hant", "請幫我轉接真人客服", "預計等待約 5 分鐘。"),
]


@pytest.mark.parametrize(("language", "text", "wait"), ASK_PERSON)
async def test_asking_for_a_person_opens_a_ticket_in_each_language(
    bot: Components, language: str, text: str, wait: str
) -> None:
    handoff = handoff_on(bot)
    conversation = await handoff.conversation()
    replies = await handoff.say(conversation, text)
    assert [r.action for r in replies] == [Action.HANDOFF]
    reply = replies[0]
    assert reply.language == language
    ticket = reply.details["ticket"]
    assert ticket["priority"] == "regular" and ticket["position"] == 1
    assert ticket["expected_wait_minutes"] == 5
    assert str(ticket["id"]) in reply.text and reply.text.endswith(wait)
    (row,) = await handoff.tickets(conversation)
    assert (row.id, row.language, row.status, row.reason) == (
        ticket["id"],
        language,
        "queued",
        "asked",
    )
    assert row.summary["intent"] == "ask_human"
    assert row.summary["last_messages"][-1] == {"sender": "customer", "text": text}


async def test_the_human_command_and_queue_positions(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    first, second = await handoff.conversation(), await handoff.conversation()
    await handoff.say(first, "/human", intent="ask_human")
    (reply,) = await handoff.say(second, "Talk to a person", intent="ask_human")
    assert reply.details["ticket"]["position"] == 2
    assert reply.details["ticket"]["expected_wait_minutes"] == 10
    # An urgent ticket jumps the regular ones.
    third = await handoff.conversation()
    urgent = await handoff.say(
        third, "I cancelled my order two weeks ago and the refund still hasn't arrived"
    )
    assert [r.action for r in urgent] == [Action.ANSWER, Action.HANDOFF]
    assert urgent[0].intent == "urgent_refund_missing"
    # the answer gives the policy's channels; it does not offer the agent the ticket brings
    assert "+852 9195 0500" in urgent[0].text and "connect you" not in urgent[0].text
    assert urgent[1].details["ticket"]["priority"] == "urgent"
    assert urgent[1].details["ticket"]["position"] == 1
    tickets = await handoff.tickets(third)
    assert aware(tickets[0].sla_deadline) == DAYTIME


async def test_sla_deadlines_by_priority(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    complex_one, regular = await handoff.conversation(), await handoff.conversation()
    replies = await handoff.say(complex_one, "I want to return an item to a seller abroad")
    assert [r.action for r in replies] == [Action.ANSWER, Action.HANDOFF]
    assert "help@xoobay.com" in replies[0].text and "connect you" not in replies[0].text
    assert replies[-1].details["ticket"]["priority"] == "complex"
    await handoff.say(regular, "I want to talk to a person")
    complex_ticket, regular_ticket = await handoff.tickets()
    assert aware(complex_ticket.sla_deadline) == DAYTIME + timedelta(hours=48)
    # Wednesday 15:00 HKT + 24 working hours: 9 h on Wednesday, 15 h on Thursday (23:00).
    due = aware(regular_ticket.sla_deadline).astimezone(HONG_KONG)
    assert due == datetime(2026, 11, 26, 23, 0, tzinfo=HONG_KONG)


async def test_two_misunderstood_messages_open_a_ticket(bot_on: Components) -> None:
    handoff = handoff_on(bot_on)
    conversation = await handoff.conversation()
    (first,) = await handoff.say(conversation, "blorp fnord")
    assert first.action is Action.CLARIFY
    (second,) = await handoff.say(conversation, "asdkjh qwe zzz")
    assert second.action is Action.HANDOFF
    (ticket,) = await handoff.tickets(conversation)
    assert ticket.reason == "not_understood"


async def test_customs_with_a_person_request_refuses_first_then_hands_off(
    bot_on: Components,
) -> None:
    handoff = handoff_on(bot_on)
    conversation = await handoff.conversation()
    replies = await handoff.say(
        conversation, "My customs clearance failed, I want to talk to a human agent"
    )
    assert [r.action for r in replies] == [Action.REFUSE, Action.HANDOFF]
    assert replies[0].intent == "refuse_customs"


async def test_an_escalation_request_hands_off_a_question_about_it_does_not(
    bot_on: Components,
) -> None:
    handoff = handoff_on(bot_on)
    asking, requesting = await handoff.conversation(), await handoff.conversation()
    (answer,) = await handoff.say(asking, "How can I escalate a complaint?")
    assert (answer.action, answer.intent) == (Action.ANSWER, "faq_escalation")
    replies = await handoff.say(requesting, "I want to escalate my complaint")
    assert [r.action for r in replies] == [Action.ANSWER, Action.HANDOFF]
    assert (await handoff.tickets(requesting))[0].reason == "escalation"


async def test_an_overdue_refund_marked_by_the_orders_flow_is_urgent(
    bot_on: Components,
) -> None:
    handoff = handoff_on(bot_on)
    conversation = await handoff.conversation()
    async with bot_on.store.turn(conversation) as turn:
        await turn.save_state({"handoff_priority": "urgent", "orders": {"number": "ORD20240001"}})
    replies = await handoff.say(conversation, "hello")
    assert replies[-1].details["ticket"]["priority"] == "urgent"
    (ticket,) = await handoff.tickets(conversation)
    assert ticket.summary["order_number"] == "ORD20240001"
    async with bot_on.store.turn(conversation) as turn:
        assert "handoff_priority" not in turn.state


async def test_out_of_hours_says_when_agents_are_back_in_the_customers_zone(
    bot_on: Components,
) -> None:
    handoff = handoff_on(bot_on, NIGHT)
    conversation = await handoff.conversation(timezone="Europe/Berlin")
    replies = await handoff.say(conversation, "Ich möchte mit einem Menschen sprechen")
    assert [r.action for r in replies] == [Action.HANDOFF, Action.HANDOFF]
    away = replies[1].text
    # Agents are back at 08:00 Hong Kong time = 01:00 in Berlin (CET).
    assert "01:00" in away and "help@xoobay.com" in away and "Mitteleuropäische" in away
    opening = NIGHT.astimezone(HONG_KONG).replace(hour=8, minute=0)
    expected = 5 + int((opening - NIGHT).total_seconds() // 60)
    assert replies[0].details["ticket"]["expected_wait_minutes"] == expected
    # 365 minutes, said in hours
    assert expected == 365 and replies[0].text.endswith("die Wartezeit beträgt etwa 6 Stunden.")


async def test_messages_while_waiting_are_relayed_and_cancel_returns_to_the_bot(
    bot_on: Components,
) -> None:
    handoff = handoff_on(bot_on)
    conversation = await handoff.conversation()
    await handoff.say(conversation, "I want to talk to a person")
    async with bot_on.events.subscribe(ALL) as events:
        (ack,) = await handoff.say(conversation, "My order ORD20240001 is late")
        relayed = await anext(events)
        assert relayed.kind == "message" and relayed.data["sender"] == "customer"
        assert relayed.data["text"] == "My order ORD20240001 is late"
        assert await handoff.say(conversation, "Are you there?") == []
        (again,) = await handoff.say(conversation, "I want to talk to a person")
        assert again.action is Action.HANDOFF and "1" in again.text
    assert ack.action is Action.HANDOFF
    transcript = await bot_on.store.transcript(conversation)
    assert "Are you there?" in [m.text for m in transcript]
    (cancelled,) = await handoff.say(conversation, "cancel")
    assert (cancelled.action, cancelled.intent) == (Action.ANSWER, "cancel")
    (ticket,) = await handoff.tickets(conversation)
    assert ticket.status == "cancelled"
    (answer,) = await handoff.say(conversation, "What is your email address?")
    assert answer.action is Action.ANSWER and "help@xoobay.com" in answer.text
    (nothing,) = await handoff.say(conversation, "cancel")
    assert nothing.intent == "cancel" and nothing.action is Action.ANSWER


async def test_an_overdue_refund_while_waiting_makes_the_ticket_urgent(
    bot_on: Components,
) -> None:
    handoff = handoff_on(bot_on)
    conversation = await handoff.conversation()
    await handoff.say(conversation, "I want to talk to a person")
    async with bot_on.store.turn(conversation) as turn:
        await turn.save_state({**turn.state, "handoff_priority": "urgent"})
    await handoff.say(conversation, "It's about my refund")
    (ticket,) = await handoff.tickets(conversation)
    assert (ticket.priority, ticket.priority_rank, ticket.status) == ("urgent", 0, "queued")
    assert aware(ticket.sla_deadline) == DAYTIME
    async with bot_on.store.turn(conversation) as turn:
        assert "handoff_priority" not in turn.state
