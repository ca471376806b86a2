"""The customer's side of the handoff: the pipeline's one handoff step.

:meth:`HandoffFlow.route` runs inside the message's turn, after the dialogue decided its
replies, and may replace them:

- while the conversation has an open ticket, the message is attached to it and relayed
  to the agents (published on the event bus); the bot only acknowledges the first one,
  answers "cancel" (the ticket is cancelled, the bot takes over again) and a repeated
  request for a person (the queue position);
- after an agent closed a ticket, the next message may be the 1-5 rating (and a
  comment), which is stored (:mod:`bot.handoff.rating`);
- otherwise a trigger (:mod:`bot.handoff.triggers`) opens a ticket: refusals first
  (agents cannot handle customs or tax either), then the policy's answer for urgent and
  complex matters, then the ticket's number, queue position and expected wait, and out
  of service hours when agents are back (in the customer's time zone) and the email
  option.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, get_timezone_name
from babel.numbers import format_decimal
from babel.units import format_unit
from sqlalchemy import ScalarSelect, select

from bot import metrics
from bot.core import Action, Incoming, Reply
from bot.dialogue import DialogueState, Step
from bot.events import ConversationEvent, EventBus
from bot.guard import Verdict
from bot.handoff import rating, texts
from bot.handoff import tickets as q
from bot.handoff.models import Ticket
from bot.handoff.sla import HONG_KONG, Priority, deadline, in_service_hours, next_opening
from bot.handoff.triggers import ASK_HUMAN, CANCEL, ESCALATION, PRIORITY_KEY, Trigger, decide
from bot.i18n import Localizer
from bot.nlu import Parse
from bot.storage.models import Message
from bot.storage.store import Turn
from bot.texts import GOODBYE

#: This feature's key in ``DialogueState.extra``.
KEY = "handoff"
#: :meth:`HandoffFlow.peek`'s name for the open ticket's id.
OPEN_TICKET = "handoff.open_ticket"
LAST_MESSAGES = 6


@dataclass(frozen=True, slots=True)
class Said:
    """What the pipeline knows of the message when the handoff step runs."""

    incoming: Incoming
    parse: Parse
    verdict: Verdict
    language: str
    zone: str | None


class HandoffFlow:
    """Opens tickets, relays messages while one is open, and takes the rating after it."""

    def __init__(
        self,
        events: EventBus,
        localizer: Localizer,
        *,
        offline_after: timedelta = timedelta(minutes=2),
        minutes_per_ticket: int = 5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._events = events
        self._localizer = localizer
        self._offline_after = offline_after
        self._minutes_per_ticket = minutes_per_ticket
        self._clock = clock

    #: What :meth:`route` wants read with the turn's lock (:meth:`Store.turn`'s ``peek``):
    #: whether a ticket is open. Only a turn of the conversation opens a ticket and agents
    #: never reopen one, so "none open" holds for the whole turn; an open one is locked
    #: and read again.
    PEEK: Mapping[str, ScalarSelect[Any]] = MappingProxyType({OPEN_TICKET: q.OPEN_TICKET_ID})

    async def route(
        self, turn: Turn, said: Said, steps: list[Step], state: DialogueState
    ) -> tuple[list[Step], DialogueState]:
        """Return the replies and state after the handoff step (see the module docstring)."""
        if state.restricted:
            return steps, state
        memory: dict[str, Any] = dict(state.extra.get(KEY) or {})
        ticket = None
        if turn.peeked.get(OPEN_TICKET, -1) is not None:  # one is open, or nobody looked
            ticket = await q.open_ticket(turn.session, turn.conversation.id, lock=True)
        if ticket is not None:
            return await self._while_open(turn, said, ticket, memory, state)
        if said.parse.intent == CANCEL:  # nothing to cancel: /cancel ends the conversation
            message = GOODBYE if said.incoming.intent == CANCEL else texts.NOTHING_TO_CANCEL
            step = Step(Reply(message), Action.ANSWER, CANCEL)
            return [step], _remember(replace(state, misses=0), {})
        rated = await rating.take(turn, said.incoming.text, said.verdict.intent, memory)
        if rated is not None:
            step, memory = rated
            return [step], _remember(replace(state, misses=0), memory)
        answered = said.verdict.intent if _answered(steps, said.verdict.intent) else None
        # only an escalation message asks whether the conversation had a ticket before
        had_ticket = answered == ESCALATION and await q.had_ticket(
            turn.session, turn.conversation.id
        )
        trigger = decide(answered, said.incoming.text, state.misses, state.extra, had_ticket)
        if trigger is None or not _may_open(steps, trigger):
            return steps, _remember(state, {}) if memory else state
        return await self._open(turn, said, trigger, steps, state)

    async def _open(
        self, turn: Turn, said: Said, trigger: Trigger, steps: list[Step], state: DialogueState
    ) -> tuple[list[Step], DialogueState]:
        now = self._clock()
        conversation = turn.conversation
        ticket = Ticket(
            conversation_id=conversation.id,
            channel=conversation.channel,
            customer_id=conversation.customer_id,
            language=said.language,
            priority=trigger.priority.value,
            priority_rank=trigger.priority.rank,
            reason=trigger.reason,
            sla_deadline=deadline(trigger.priority, now),
            summary=await self._summary(turn, said, state),
            status=q.QUEUED,
            created_at=now,
            updated_at=now,
        )
        turn.session.add(ticket)
        await turn.session.flush()
        metrics.HANDOFFS.labels(trigger.priority.value).inc()
        spot = await q.place(
            turn.session,
            ticket,
            now,
            offline_after=self._offline_after,
            minutes_per_ticket=self._minutes_per_ticket,
        )
        locale = self._localizer.locale(said.language)
        params = {
            "ticket": str(ticket.id),
            "position": format_decimal(spot.position, locale=locale),
            "wait": expected_wait(spot.expected_wait_minutes, locale),
        }
        details = {
            "ticket": {
                "id": ticket.id,
                "priority": ticket.priority,
                "position": spot.position,
                "expected_wait_minutes": spot.expected_wait_minutes,
            }
        }
        opened = Step(
            Reply(texts.TICKET_OPENED, params),
            Action.HANDOFF,
            said.verdict.intent or "handoff",
            (texts.SUGGEST_CANCEL,),
            details=details,
        )
        kept = [s for s in steps if s.action is Action.REFUSE]
        kept += [s for s in steps if s.action is Action.ANSWER and s.intent != ASK_HUMAN]
        # An order's status stays (an overdue refund opens the ticket); its offer of a
        # person is answered by the ticket itself.
        kept += [replace(s, suggestions=()) for s in steps if s.action is Action.ORDER]
        replies = [*kept, opened]
        if not in_service_hours(now):
            replies.append(self._away(said, now))
        await self._events.publish(
            ConversationEvent(conversation.id, "ticket", {"id": ticket.id, "status": q.QUEUED})
        )
        extra = {k: v for k, v in state.extra.items() if k not in (PRIORITY_KEY, KEY)}
        return replies, replace(state, misses=0, extra=extra)

    def _away(self, said: Said, now: datetime) -> Step:
        locale = self._localizer.locale(said.language)
        try:
            zone = ZoneInfo(said.zone) if said.zone else HONG_KONG
        except (KeyError, ValueError):
            zone = HONG_KONG
        back = next_opening(now)
        params = {
            "when": format_datetime(back, format="short", tzinfo=zone, locale=locale),
            "zone": get_timezone_name(zone, locale=locale),
        }
        return Step(Reply(texts.AGENTS_AWAY, params), Action.HANDOFF, "handoff")

    async def _while_open(
        self,
        turn: Turn,
        said: Said,
        ticket: Ticket,
        memory: dict[str, Any],
        state: DialogueState,
    ) -> tuple[list[Step], DialogueState]:
        now = self._clock()
        state = replace(state, misses=0)
        conversation_id = turn.conversation.id
        if state.extra.get(PRIORITY_KEY) == Priority.URGENT.value:  # an overdue refund
            if ticket.priority != Priority.URGENT.value:
                ticket.priority, ticket.priority_rank = Priority.URGENT.value, Priority.URGENT.rank
                ticket.sla_deadline = deadline(Priority.URGENT, now)
            extra = {k: v for k, v in state.extra.items() if k != PRIORITY_KEY}
            state = replace(state, extra=extra)
        if said.parse.intent == CANCEL:
            ticket.status, ticket.closed_at, ticket.updated_at = q.CANCELLED, now, now
            await self._events.publish(
                ConversationEvent(
                    conversation_id, "ticket", {"id": ticket.id, "status": q.CANCELLED}
                )
            )
            return [Step(Reply(texts.CANCELLED), Action.ANSWER, CANCEL)], _remember(state, {})
        if ticket.status == q.WAITING:
            ticket.status, ticket.updated_at = q.ASSIGNED, now
        await self._events.publish(
            ConversationEvent(
                conversation_id,
                "message",
                {
                    "text": said.incoming.text,
                    "language": said.language,
                    "intent": said.parse.intent,
                    "action": None,
                    "sender": "customer",
                    "sender_name": None,
                    "suggestions": [],
                    "ticket": ticket.id,
                },
            )
        )
        if said.parse.intent == ASK_HUMAN and ticket.status == q.QUEUED:
            spot = await q.place(
                turn.session,
                ticket,
                now,
                offline_after=self._offline_after,
                minutes_per_ticket=self._minutes_per_ticket,
            )
            reply = Reply(texts.ALREADY_QUEUED, {"ticket": ticket.id, "position": spot.position})
            step = Step(reply, Action.HANDOFF, ASK_HUMAN, (texts.SUGGEST_CANCEL,))
            return [step], state
        if memory.get("acked") == ticket.id:
            return [], state
        step = Step(Reply(texts.WAITING_ACK), Action.HANDOFF, said.parse.intent)
        return [step], _remember(state, {"acked": ticket.id})

    async def _summary(self, turn: Turn, said: Said, state: DialogueState) -> dict[str, Any]:
        rows = await turn.session.scalars(
            select(Message)
            .where(Message.conversation_id == turn.conversation.id)
            .order_by(Message.id.desc())
            .limit(LAST_MESSAGES - 1)
        )
        last = [{"sender": r.sender, "text": r.text} for r in reversed(list(rows))]
        last.append({"sender": "customer", "text": said.incoming.text})
        return {
            "intent": said.parse.intent,
            "order_number": _order_number(said.parse, state.extra),
            "language": said.language,
            "last_messages": last,
        }


def _answered(steps: list[Step], intent: str | None) -> bool:
    """Whether the dialogue answered ``intent`` (not a language switch, not a refusal)."""
    return intent is not None and any(s.intent == intent for s in steps)


def expected_wait(minutes: int, locale: Locale) -> str:
    """The expected wait in the customer's words: "5 minutes", "6 Stunden", "6小时".

    Minutes under two hours, then the nearest whole hour: 365 minutes, a night's wait
    until agents are back, is "6 hours". CLDR's duration units, as Babel formats them.
    """
    if minutes < 120:
        return format_unit(minutes, "duration-minute", locale=locale)
    return format_unit((minutes + 30) // 60, "duration-hour", locale=locale)


def _may_open(steps: list[Step], trigger: Trigger) -> bool:
    """A language switch alone or an unsupported language never opens a ticket.

    A switch with more said ("Please answer in Russian. I want a person.") may.
    """
    intents = {s.intent for s in steps}
    return "unsupported_language" not in intents and intents != {"switch_language"}


def _remember(state: DialogueState, memory: dict[str, Any]) -> DialogueState:
    extra = {k: v for k, v in state.extra.items() if k != KEY}
    if memory:
        extra[KEY] = memory
    return replace(state, extra=extra)


def _order_number(parse: Parse, extra: dict[str, Any]) -> str | None:
    for entity in parse.entities:
        if entity.name == "order_number":
            return entity.value
    orders = extra.get("orders")
    if isinstance(orders, dict):
        for key in ("order_number", "number", "last", "current"):
            value = orders.get(key)
            if isinstance(value, str) and value:
                return value
    return None
