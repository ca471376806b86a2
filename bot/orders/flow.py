"""The order conversation: ask for the number, verify the owner, show the status.

The pipeline calls :meth:`OrderFlow.handle` once per message, after the dialogue. The
flow takes the message over when it is about orders (an order intent, an order number,
a deep link from a group) or answers a question the flow asked; otherwise the
dialogue's replies stand. What it remembers lives in ``DialogueState.extra["orders"]``:
the order number, what it waits for (``number`` or ``contact``), numbers verified.
A known customer (a signed web identity, a linked Telegram account) asking without a
number sees their order, or their orders and the question which one. A customer who
doesn't know what the flow waits for ("I forgot which email I used") is offered a person.

Verification is the same in every channel: the owner is known (a signed web identity,
a Telegram account linked by an earlier success) or proves it with the email or phone
number on the order. Until then no reply depends on whether the order exists: an
unknown number and a wrong email get the same answers. Failed verifications count per
conversation, per Telegram account, per customer and per order number; past the limit
the chat is locked out for a while; guesses on the same keys are counted one at a time,
also across processes. Every step is audited. In a group nothing is
looked up: the customer gets a one-time link to a private chat.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.core import Action, Incoming, Reply
from bot.dialogue import AFFIRM, DENY, DONT_KNOW, ORDER_INTENTS, REFUSALS, DialogueState, Step
from bot.errors import OrderServiceUnavailable
from bot.language import LanguageChoice
from bot.nlu import Parse
from bot.nlu.entities import normalize
from bot.orders import Order, OrderService, records
from bot.orders.identity import contact_matches
from bot.orders.present import list_step, order_step
from bot.storage.store import Turn

log = logging.getLogger(__name__)
KEY = "orders"
#: An "ORD" with digits that is not a whole order number (too short, mistyped).
_ORDER_LIKE = re.compile(r"(?<![a-z0-9])ord[\s\-#:]*\d", re.I)
_DIGITS = re.compile(r"\d[\d\s\-()]*\d|\d")
_BARE_NUMBER = re.compile(r"^\s*#?\s*(\d(?:[\s\-]?\d){5,19})\s*$")


@dataclass(frozen=True, slots=True)
class Limits:
    """How many failed verifications are allowed, and for how long a lock-out lasts."""

    per_customer: int = 5
    per_order: int = 5
    window: timedelta = timedelta(minutes=15)
    link_lifetime: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class OrderTurn:
    """The message the flow looks at, with its open transaction."""

    turn: Turn
    incoming: Incoming
    parse: Parse
    choice: LanguageChoice


#: Intents that go to a person (or back from one): the order flow only notes the number.
PERSON_INTENTS = frozenset({"ask_human", "cancel"})
#: Answers to the flow's question that it will not get: "I don't know", "no".
CANNOT_GIVE = frozenset({DONT_KNOW, DENY})


@dataclass(slots=True)
class _Memory:
    number: str | None = None
    awaiting: str | None = None
    verified: list[str] = field(default_factory=list)
    urgent: bool = False

    @classmethod
    def load(cls, data: Any) -> _Memory:
        data = data if isinstance(data, dict) else {}
        verified = [str(n) for n in data.get("verified") or []]
        return cls(data.get("number"), data.get("awaiting"), verified)

    def dump(self) -> dict[str, Any]:
        return {"number": self.number, "awaiting": self.awaiting, "verified": self.verified}


class OrderFlow:
    """Looks orders up for their verified owner; see the module docstring."""

    def __init__(
        self,
        service: OrderService,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.service = service
        self.limits = limits or Limits()
        self.clock = clock

    async def handle(
        self, message: OrderTurn, steps: list[Step], state: DialogueState
    ) -> tuple[list[Step], DialogueState]:
        """Return the replies and state after the order flow had its say."""
        choice, parse = message.choice, message.parse
        if state.restricted or choice.unsupported or (choice.explicit and choice.rest is None):
            return steps, state
        memory = _Memory.load(state.extra.get(KEY))
        if parse.intent in PERSON_INTENTS:  # a person was asked for: the handoff answers
            numbers = [e.value for e in parse.entities if e.name == "order_number"]
            memory.number, memory.awaiting = (numbers[0] if numbers else memory.number), None
            return steps, replace(state, extra={**state.extra, KEY: memory.dump()})
        run = _Run(self, message, memory)
        ours = await run.steps()
        if ours is None:
            if memory.awaiting is not None:  # the customer moved on to something else
                memory.awaiting = None
                state = replace(state, extra={**state.extra, KEY: memory.dump()})
            return steps, state
        refusals = [s for s in steps if s.action is Action.REFUSE and s.intent in REFUSALS]
        asides = [s for s in steps if s.aside]  # the message's other questions' answers
        extra = {**state.extra, KEY: memory.dump()}
        if memory.urgent:
            extra["handoff_priority"] = "urgent"
        log.debug("order flow answered intent %s", parse.intent)
        return [*asides, *ours, *refusals], replace(state, misses=0, extra=extra)


class _Run:
    """One message through the flow (keeps the per-message context together)."""

    def __init__(self, flow: OrderFlow, message: OrderTurn, memory: _Memory) -> None:
        self.service, self.limits, self.memory = flow.service, flow.limits, memory
        self.turn, self.incoming, self.parse = message.turn, message.incoming, message.parse
        self.conversation = message.turn.conversation
        self.now = flow.clock()
        self.intent = self.parse.intent if self.parse.intent in ORDER_INTENTS else "order_status"
        user = self.incoming.channel_user_id
        self.telegram_user = int(user) if user and user.lstrip("-").isdigit() else None
        self.zone = self.incoming.timezone or self.conversation.timezone

    @property
    def session(self) -> AsyncSession:
        """The turn's ORM session, opened on first use (most messages need none)."""
        return self.turn.session

    async def steps(self) -> list[Step] | None:
        """Return the flow's replies, or ``None`` when the message is not for the flow."""
        memory, text = self.memory, normalize(self.incoming.text)
        numbers = [e.value for e in self.parse.entities if e.name == "order_number"]
        link = self.incoming.deep_link or ""
        if link.startswith(records.LINK_PREFIX) and not self.incoming.is_group:
            return await self._redeem(link)
        about_orders = self.parse.intent in ORDER_INTENTS or bool(numbers)
        if self.incoming.is_group:
            return [await self._to_private(numbers)] if about_orders else None
        if numbers:
            memory.number, memory.awaiting = numbers[0], None
            email, phone = self._contact(text, bare_digits=False)
            if email or phone:  # the number and the proof in one message
                return await self._verify(email, phone)
            return await self._lookup(numbers[0])
        bare = _BARE_NUMBER.match(text) if memory.awaiting == "number" else None
        if bare:  # just the digits, when the number was asked for
            memory.number, memory.awaiting = "ORD" + re.sub(r"\D", "", bare.group(1)), None
            return await self._lookup(memory.number)
        if memory.awaiting == "contact":
            email, phone = self._contact(text)
            if email or phone:
                return await self._verify(email, phone)
            if self.parse.intent in CANNOT_GIVE:  # the customer can't confirm: a person can
                return [self._offer_person(texts.ORDER_NO_CONTACT, number=memory.number)]
            if self.parse.intent == AFFIRM:  # "ok": still waiting for it
                return [self._say(texts.ORDER_CONTACT_FORMAT)]
            if self.parse.intent != "my_orders":
                return [self._say(texts.ORDER_CONTACT_FORMAT)] if about_orders else None
            memory.awaiting = None
        if memory.awaiting == "number" and self.parse.intent in CANNOT_GIVE:
            return await self._no_number()
        if memory.awaiting == "number" and self.parse.intent == AFFIRM:
            return [self._say(texts.ORDER_ASK_NUMBER)]
        if _ORDER_LIKE.search(text) or (memory.awaiting == "number" and _DIGITS.search(text)):
            memory.awaiting = "number"
            return [self._say(texts.ORDER_BAD_NUMBER)]
        if self.parse.intent == "my_orders":
            return await self._mine()
        if not about_orders:
            return None
        if memory.number and self.parse.intent == "order_status":
            return await self._lookup(memory.number)
        owner = await self._owner()
        if owner is not None:  # a known customer needs no number: their order, or which one
            return await self._orders_of(owner, pick=True)
        memory.awaiting = "number"
        return [self._say(texts.ORDER_ASK_NUMBER)]

    # -- the steps ----------------------------------------------------------------------
    async def _lookup(self, number: str) -> list[Step]:
        try:
            order = await self.service.get(number)
        except OrderServiceUnavailable as error:
            return await self._unavailable(number, error)
        owner = await self._owner()
        if order is not None and (
            number in self.memory.verified or (owner is not None and order.customer_ref == owner)
        ):
            return [await self._show(order, "lookup")]
        locked = await self._locked(number)
        if locked:
            return locked
        self.memory.awaiting = "contact"
        await self._audit(number, "lookup", "asked_verification")
        return [self._say(texts.ORDER_ASK_CONTACT, number=number)]

    async def _verify(self, email: str | None, phone: str | None) -> list[Step]:
        number = self.memory.number
        if number is None:
            self.memory.awaiting = "number"
            return [self._say(texts.ORDER_ASK_NUMBER)]
        # A guess: held against every other guess on these keys until this one is counted.
        await records.serialize(self.session, self._keys(number))
        locked = await self._locked(number)
        if locked:
            return locked
        try:
            order = await self.service.get(number)
        except OrderServiceUnavailable as error:
            return await self._unavailable(number, error)
        if contact_matches(order, email, phone) and order is not None:
            self.memory.awaiting = None
            self.memory.verified = [*self.memory.verified, number][-20:]
            if self.telegram_user is not None and order.customer_ref:
                await records.link_telegram(self.session, order.customer_ref, self.telegram_user)
            return [await self._show(order, "verify")]
        self.memory.awaiting = "contact"
        await records.record_failure(self.session, self._keys(number), self.now)
        await self._audit(number, "verify", "failed")
        locked = await self._locked(number)
        return locked or [self._say(texts.ORDER_NOT_VERIFIED)]

    async def _mine(self) -> list[Step]:
        owner = await self._owner()
        if owner is None:
            self.memory.awaiting = "number"
            return [self._say(texts.ORDER_MY_ORDERS_UNKNOWN)]
        return await self._orders_of(owner)

    async def _orders_of(self, owner: str, *, pick: bool = False) -> list[Step]:
        """The customer's orders; with ``pick``, a single one shown, else which one asked."""
        try:
            orders = await self.service.orders_of(owner)
        except OrderServiceUnavailable as error:
            return await self._unavailable(None, error)
        if pick and len(orders) == 1:
            self.memory.number = orders[0].number
            return [await self._show(orders[0], "lookup")]
        await self._audit(None, "my_orders", f"listed_{len(orders)}")
        if not orders:
            return [self._say(texts.ORDER_MY_ORDERS_NONE)]
        step = list_step(orders[:10], self.intent, self.now, self.zone)
        if pick:
            self.memory.awaiting = "number"
            step = replace(step, more=(*step.more, Reply(texts.ORDER_PICK)))
        return [step]

    async def _no_number(self) -> list[Step]:
        """The number was asked for and the customer doesn't have it: their orders, if known."""
        owner = await self._owner()
        if owner is not None:
            return await self._orders_of(owner, pick=True)
        return [self._offer_person(texts.ORDER_NO_NUMBER)]

    async def _to_private(self, numbers: list[str]) -> Step:
        number = numbers[0] if numbers else None
        if self.telegram_user is None:
            return self._say(texts.ORDER_GROUP_PRIVATE)
        payload = await records.create_link(
            self.session, self.telegram_user, number, self.now, self.limits.link_lifetime
        )
        await self._audit(number, "group", "private_link")
        step = self._say(texts.ORDER_GROUP_PRIVATE)
        return replace(step, details={"private_chat": payload})

    async def _redeem(self, payload: str) -> list[Step]:
        valid, number = await records.redeem_link(
            self.session, payload, self.telegram_user, self.now
        )
        await self._audit(number if valid else None, "deep_link", "ok" if valid else "invalid")
        if not valid:
            self.memory.awaiting = "number"
            return [self._say(texts.ORDER_LINK_EXPIRED)]
        if number is None:
            self.memory.awaiting = "number"
            return [self._say(texts.ORDER_ASK_NUMBER)]
        self.memory.number, self.memory.awaiting = number, None
        return await self._lookup(number)

    # -- helpers ------------------------------------------------------------------------
    async def _show(self, order: Order, action: str) -> Step:
        await self._audit(order.number, action, "shown")
        step = order_step(order, self.intent, self.now, self.zone)
        self.memory.urgent = order.refund_overdue(self.now)
        return step

    async def _locked(self, number: str) -> list[Step] | None:
        limits, since = self.limits, self.now - self.limits.window
        keys = self._keys(number)
        counts = await records.failures(self.turn, keys, since)
        for key in keys:
            limit = limits.per_order if key.startswith("order:") else limits.per_customer
            if counts[key] >= limit:
                self.memory.awaiting = None
                await self._audit(number, "lookup", "locked")
                minutes = int(limits.window.total_seconds() // 60)
                return [self._say(texts.ORDER_LOCKED, minutes=minutes)]
        return None

    async def _unavailable(self, number: str | None, error: Exception) -> list[Step]:
        log.warning("order service unavailable: %s", error)
        await self._audit(number, "lookup", "unavailable")
        return [self._offer_person(texts.ORDER_UNAVAILABLE)]

    async def _owner(self) -> str | None:
        """The shop id of the customer this chat is known to be, if any.

        A chat with no identity and no Telegram user has none: no query, no ORM session.
        """
        if self.conversation.customer_id is None and self.telegram_user is None:
            return None
        return await records.customer_ref(self.session, self.conversation, self.telegram_user)

    def _keys(self, number: str) -> list[str]:
        keys = [f"conversation:{self.conversation.id}", records.order_key(number)]
        if self.telegram_user is not None:
            keys.append(f"telegram:{self.telegram_user}")
        if self.conversation.customer_id is not None:
            keys.append(f"customer:{self.conversation.customer_id}")
        return keys

    def _contact(self, text: str, bare_digits: bool = True) -> tuple[str | None, str | None]:
        """Return the email and phone (or its last digits) the customer gave, if any."""
        entities = {e.name: e.value for e in self.parse.entities}
        email, phone = entities.get("email"), entities.get("phone")
        if phone is None and bare_digits:
            runs = [r for r in _DIGITS.findall(text) if len(re.sub(r"\D", "", r)) >= 4]
            phone = runs[-1] if runs else None
        return email, phone

    def _say(self, message: str, **params: Any) -> Step:
        return Step(Reply(message, params), Action.ORDER, self.intent)

    def _offer_person(self, message: str, **params: Any) -> Step:
        return replace(self._say(message, **params), suggestions=(texts.SUGGEST_HUMAN,))

    async def _audit(self, number: str | None, action: str, outcome: str) -> None:
        actor = (
            f"telegram:{self.telegram_user}"
            if self.telegram_user is not None
            else f"conversation:{self.conversation.id}"
        )
        if self.conversation.customer_id is not None:
            actor = f"customer:{self.conversation.customer_id}"
        await records.audit(
            self.turn,
            conversation_id=self.conversation.id,
            channel=self.conversation.channel,
            actor=actor,
            number=number,
            action=action,
            outcome=outcome,
            now=self.now,
        )
