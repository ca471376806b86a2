"""Messages that say several things: "Thanks! And when will it arrive?".

The NLU reads a message as one intent. A customer's message often holds a thanks or a
greeting and then a question, or two questions; read whole, the strongest words win and
the rest goes unanswered ("thanks, and when will it arrive?" got "You're welcome!").

A message of two or more sentences is therefore also read sentence by sentence (one
whose whole reading is a greeting, a thanks or a goodbye is split at its commas too),
and the readings are weighed:

- a request for a person, read with confidence in one sentence, is the message's intent
  ("I want a person. This bot is useless." is not taken for abuse), unless another
  sentence is urgent or complex: that opens a ticket too, with its priority;
- a whole reading of small talk or nothing gives way to the weightiest sentence: a
  person or an urgent or complex matter, then an order, then a policy question; of two
  sentences that weigh the same, the one the whole message reads more ("I ordered a phone
  last week. It still hasn't arrived.": the order's status, not "my orders");
- any other whole reading gives way only to a weightier sentence read with confidence
  that the whole message reads as well (:data:`SUPPORT`): found twice over, as the
  guard finds refusals;
- the other policy questions, read with confidence, are answered too, after it
  (:attr:`bot.nlu.Parse.also`, at most :data:`MAX_ASIDES`);
- a whole reading the weights do not rank (a refusal, abuse, out of scope, cancel)
  otherwise stays the message's intent: the guard and the dialogue decide on it.

A one-sentence message costs two splits more than before (here and for the language
choice: 4 µs each on a slow machine), no reading.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from bot.dialogue import AFFIRM, ANSWERS, DENY, ORDER_INTENTS
from bot.handoff.triggers import ASK_HUMAN, ESCALATION
from bot.nlu import Parse

#: A greeting, a thanks, a goodbye: what ``python -m bot evaluate`` puts before a question.
COURTESIES = frozenset({"greet", "thanks", "goodbye"})
#: Readings that give way to a question beside them ("ok, and where is it?").
SOCIAL = COURTESIES | {AFFIRM, DENY}
#: Intents that hand the conversation to a person (or may: an escalation request).
ESCALATING = frozenset({ASK_HUMAN, ESCALATION})
#: Questions the dialogue answers from the policy, with no other effect: an aside.
INFO = frozenset(i for i in ANSWERS if i.startswith(("faq_", "bot_"))) - ESCALATING
#: A clause's reading needs this confidence to be answered beside the message's intent,
#: or instead of a whole reading that is more than small talk: an answer to a question
#: not asked is noise.
CONFIDENT = 0.8
#: ... and to replace such a reading, the whole message must read it this much as well.
SUPPORT = 0.5
MAX_ASIDES = 2
#: Sentences read one by one, at most; the rest of a long message counts only as a whole.
MAX_CLAUSES = 6

_SENTENCES = re.compile(
    r"(?<=[.!?;…])\s+"  # Latin punctuation, then a space
    r"|(?<=[。！？；!?])(?=[^\s。！？；!?.…])"  # full-width punctuation, no space needed
    r"|\s*\n\s*"
)
_COMMAS = re.compile(r"(?<=[,，、])\s*")
_WORDLESS = re.compile(r"\W*")


def weight(intent: str | None) -> int | None:
    """How much a reading weighs; ``None`` for one the weights do not rank."""
    if intent is None or intent in SOCIAL:
        return 0
    if intent in ESCALATING or intent.startswith(("urgent_", "complex_")):
        return 3
    if intent in ORDER_INTENTS:
        return 2
    if intent in INFO:
        return 1
    return None


def clauses(text: str, *, commas: bool = False) -> list[str]:
    """Split a message into sentences (and at commas too with ``commas``).

    Pieces without a letter or digit ("...", "!!") are dropped; at most
    :data:`MAX_CLAUSES` pieces are returned.
    """
    pieces = _SENTENCES.split(text)
    if commas:
        pieces = [part for piece in pieces for part in _COMMAS.split(piece)]
    kept = [p.strip() for p in pieces if not _WORDLESS.fullmatch(p)]
    return kept[:MAX_CLAUSES]


def combine(whole: Parse, parts: Sequence[Parse]) -> Parse:
    """The message's reading from its whole reading and its clauses' (see the module)."""
    main, confidence = whole.intent, whole.confidence
    support = dict(whole.ranking)
    readings: dict[str, float] = {}
    for part in parts:
        if part.intent is not None and weight(part.intent) and part.intent not in readings:
            readings[part.intent] = part.confidence
    for intent, score in readings.items():
        if _outweighs(intent, score, main, support):
            main, confidence = intent, score
    asides = [i for i, score in readings.items() if i in INFO and score >= CONFIDENT]
    if whole.intent in INFO and whole.intent != main:  # a question the clauses outweighed
        asides.insert(0, whole.intent)
    asides = [i for i in dict.fromkeys(asides) if i != main][:MAX_ASIDES]
    if main is None or (main == whole.intent and not asides):
        return whole
    ranking = ((main, confidence), *(r for r in whole.ranking if r[0] != main))
    return replace(whole, intent=main, confidence=confidence, ranking=ranking, also=tuple(asides))


def _outweighs(intent: str, score: float, main: str | None, support: dict[str, float]) -> bool:
    """Whether a clause's reading becomes the message's intent instead of ``main``."""
    current = weight(main)
    if intent == ASK_HUMAN:  # a person asked for in so many words, whatever else was said
        return main != intent and score >= CONFIDENT and (current is None or current < 3)
    if current is None:
        return False
    if current == 0:  # small talk or nothing, then a question
        return True
    if weight(intent) == current:  # two sentences alike: the one the whole message reads more
        return support.get(intent, 0.0) > support.get(main or "", 0.0)
    heavier = (weight(intent) or 0) > current
    return heavier and score >= CONFIDENT and support.get(intent, 0.0) >= SUPPORT


async def understand(parse: Callable[[str], Awaitable[Parse]], text: str, whole: Parse) -> Parse:
    """Read ``text`` clause by clause when it has several, and combine the readings.

    Args:
        parse: The NLU backend's parse, in the message's language.
        text: The customer's message.
        whole: The NLU's reading of the whole message.
    """
    pieces = clauses(text, commas=whole.intent in SOCIAL)
    if len(pieces) < 2:
        return whole
    # together: a slow Rasa server makes a message wait for its slowest sentence, not their sum
    parts = await asyncio.gather(*(parse(piece) for piece in pieces))
    return combine(whole, parts)
