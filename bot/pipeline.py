"""The path of one message, in one function: :meth:`Pipeline.handle`.

language → NLU (sentence by sentence too) → policy guard → dialogue → orders (lookup
and verification) → handoff (relay to the agent while a ticket is open; open one on a
trigger; the rating after one) → save → render. Every channel calls it with an
:class:`Incoming` and sends the :class:`Outgoing` replies it returns.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

from bot import clauses, guard, metrics
from bot.core import Incoming, Outgoing
from bot.dialogue import DialogueState, Step, respond
from bot.errors import EmptyMessage, MessageTooLong, NluUnavailable
from bot.handoff.flow import HandoffFlow, Said
from bot.i18n import Localizer
from bot.langid import Detection, LanguageDetector
from bot.language import LanguageChoice, choose_language, normalize_tag
from bot.nlu import NluBackend, Parse
from bot.nlu.entities import extract
from bot.orders.flow import OrderFlow, OrderTurn
from bot.storage.store import Store, Turn

log = logging.getLogger(__name__)
NO_SIGNAL = Detection(language=None, unsupported=None, confidence=0.0, strong=False)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str, limit: int) -> str:
    """Return the message without control characters and outer white space.

    Raises:
        EmptyMessage: Nothing is left.
        MessageTooLong: More than ``limit`` characters are left.
    """
    cleaned = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text)).strip()
    if not cleaned:
        raise EmptyMessage("empty message")
    if len(cleaned) > limit:
        raise MessageTooLong(limit)
    return cleaned


def says_nothing(text: str) -> bool:
    """Whether a message is punctuation alone ("?", "!!!"): no words, digits or symbols.

    The NLU read "?" as an order question and "!!!" as a payment anomaly (a ticket).
    """
    return all(unicodedata.category(char)[0] in "PZ" for char in text)


async def _read(nlu: NluBackend, text: str, language: str) -> Parse:
    """The backend's reading of the message, and of its sentences when it has several."""
    with metrics.NLU_SECONDS.labels(type(nlu).__name__).time():
        whole = await nlu.parse(text, language)
        return await clauses.understand(partial(nlu.parse, language=language), text, whole)


def _count(channel: str, language: str, verdict: guard.Verdict, replies: list[Outgoing]) -> None:
    metrics.MESSAGES.labels(channel, language).inc()
    for reply in replies:
        metrics.REPLIES.labels(reply.action.value).inc()
        if reply.intent:
            metrics.INTENTS.labels(reply.intent).inc()
    for reason in verdict.refusals:
        metrics.REFUSALS.labels(reason).inc()


class Pipeline:
    """Handles customer messages from every channel the same way."""

    def __init__(
        self,
        store: Store,
        detector: LanguageDetector,
        nlu: NluBackend,
        fallback_nlu: NluBackend,
        localizer: Localizer,
        orders: OrderFlow,
        handoff: HandoffFlow,
        max_length: int = 4000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._detector = detector
        self._nlu = nlu
        self._fallback_nlu = fallback_nlu
        self._localizer = localizer
        self._orders = orders
        self._handoff = handoff
        self.max_length = max_length
        self._clock = clock

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        """Answer one customer message; a retried message gets its stored answer.

        Raises:
            EmptyMessage: The text is empty.
            MessageTooLong: The text is over the limit.
            ConversationNotFound: The conversation does not exist.
        """
        text = clean_text(incoming.text, self.max_length)
        incoming = replace(incoming, text=text)
        async with self._store.turn(
            incoming.conversation_id,
            incoming.client_message_id,
            peek=self._handoff.PEEK,
        ) as turn:
            replayed = await turn.replay(incoming.client_message_id)
            if replayed is not None:
                return replayed
            choice = self._language(turn, text, incoming)
            asked = choice.rest or text  # without a sentence that asked for a language
            parse = await self._understand(asked, choice.language, incoming.intent)
            state = DialogueState.from_dict(turn.state)
            verdict = guard.check(parse, asked)
            steps, state = respond(verdict, choice, state)
            steps, state = await self._orders.handle(
                OrderTurn(turn, incoming, parse, choice), steps, state
            )
            if state.restricted:
                log.warning("conversation %s restricted after abuse", incoming.conversation_id)
            zone = incoming.timezone or turn.conversation.timezone
            said = Said(incoming, parse, verdict, choice.language, zone)
            steps, state = await self._handoff.route(turn, said, steps, state)
            replies = [self._render(step, choice.language, zone) for step in steps]
            _count(turn.conversation.channel, choice.language, verdict, replies)
            await turn.record(
                incoming,
                language=choice.language,
                intent=parse.intent,
                replies=replies,
                state=state.to_dict(),
            )
        return replies

    def _language(self, turn: Turn, text: str, incoming: Incoming) -> LanguageChoice:
        conversation = turn.conversation
        chosen = normalize_tag(incoming.chosen_language)
        if chosen is not None:
            return LanguageChoice(chosen, chosen != conversation.language, True, None)
        hint = incoming.language_hint or conversation.language_hint
        if incoming.intent is not None:  # a command or button: its text says no language
            return choose_language(NO_SIGNAL, "", conversation.language, hint)
        with metrics.DETECTION_SECONDS.time():
            detection = self._detector.detect(text)
        sentences = clauses.clauses(text)
        return choose_language(detection, text, conversation.language, hint, sentences)

    async def _understand(self, text: str, language: str, known: str | None) -> Parse:
        if known is not None:
            return Parse(known, 1.0, ((known, 1.0),), extract(text))
        if says_nothing(text):
            return Parse(None, 0.0)
        try:
            return await _read(self._nlu, text, language)
        except NluUnavailable as error:
            log.warning("NLU backend unavailable (%s); using the embedded NLU", error)
            metrics.NLU_FALLBACKS.inc()
            return await _read(self._fallback_nlu, text, language)

    def _render(self, step: Step, language: str, zone: str | None) -> Outgoing:
        reply_language = "en" if step.intent == "unsupported_language" else language
        parts = (step.reply, *step.more)
        text = "\n".join(self._localizer.render(reply_language, part) for part in parts)
        if step.local_hours and zone:
            local = self._localizer.service_hours_local(reply_language, zone, self._clock())
            if local is not None:
                text = f"{text}\n{self._localizer.render(reply_language, local)}"
        return Outgoing(
            text=text,
            language=reply_language,
            intent=step.intent,
            action=step.action,
            suggestions=tuple(self._localizer.gettext(reply_language, s) for s in step.suggestions),
            details=dict(step.details),
        )
