"""The in-process event bus and the delivery of later messages to channels."""

from __future__ import annotations

import asyncio

from bot.core import Action, Channel, Outgoing
from bot.events import ALL, ConversationEvent, Delivery, LocalEventBus


async def test_subscribers_of_a_conversation_and_of_all_get_its_events() -> None:
    bus = LocalEventBus()
    async with (
        bus.subscribe("c1") as mine,
        bus.subscribe(ALL) as every,
        bus.subscribe("c2") as other,
    ):
        await bus.publish(ConversationEvent("c1", "typing"))
        assert (await asyncio.wait_for(anext(mine), 1)).kind == "typing"
        assert (await asyncio.wait_for(anext(every), 1)).conversation_id == "c1"
        pending = asyncio.ensure_future(anext(other))
        await asyncio.sleep(0.05)
        assert not pending.done()
        pending.cancel()
    assert bus.subscribers("c1") == 0


async def test_a_full_queue_drops_the_oldest_event() -> None:
    bus = LocalEventBus(queue_size=2)
    async with bus.subscribe("c") as events:
        for n in range(3):
            await bus.publish(ConversationEvent("c", "message", {"n": n}))
        assert [(await anext(events)).data["n"] for _ in range(2)] == [1, 2]


async def test_delivery_publishes_and_sends_on_the_channel_even_if_the_channel_fails() -> None:
    bus = LocalEventBus()
    delivery = Delivery(bus)
    sent: list[tuple[str, str]] = []

    async def telegram(chat_id: str, outgoing: Outgoing) -> None:
        sent.append((chat_id, outgoing.text))
        raise RuntimeError("Telegram is down")

    delivery.register(Channel.TELEGRAM, telegram)
    reply = Outgoing(
        "Hello, I am Ann.", "en", None, Action.AGENT, sender="agent", sender_name="Ann"
    )
    async with bus.subscribe("c") as events:
        await delivery.deliver("c", "telegram", "42", reply)
        event = await asyncio.wait_for(anext(events), 1)
    assert sent == [("42", "Hello, I am Ann.")]
    assert event.kind == "message"
    assert event.data["sender_name"] == "Ann" and event.data["action"] == "agent"
    await delivery.deliver("c", "web", None, reply)  # no sender for web: published only
