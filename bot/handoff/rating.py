"""The customer's 1-5 rating and comment after an agent closed a ticket (policy section 8).

Closing a ticket leaves ``{"rating": <ticket id>}`` in the conversation's handoff memory
and the bot asks for a rating. The next message that starts with a score (``4``,
``５``, ``4/5``, ``4 stars``, ``4점``...) is stored as the rating, the rest of it as the
comment; a score alone gets a request for a comment, and the message after it is the
comment unless it is a new question or a "no". Anything else: the bot answers as usual.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bot.core import Action, Reply
from bot.dialogue import DENY, Step
from bot.handoff import texts
from bot.handoff.models import Rating
from bot.storage.store import Turn

INTENT = "rating"
_SCORE = re.compile(
    r"^\s*([1-5１-５])"  # the score
    r"(?:\s*(?:/\s*5|★|⭐|stars?|점|分|星|из 5|von 5))?"  # a unit
    r"(?:[\s.,:;!\-，。、：；！]+|$)"  # then a separator before the comment, or nothing
)
_FULL_WIDTH = str.maketrans("１２３４５", "12345")
#: Intents that are a new question, not the comment the bot asked for.
_QUESTIONS = ("faq_", "urgent_", "complex_", "order_status", "ask_human", "bot_capabilities")


def parse_score(text: str) -> tuple[int, str | None] | None:
    """The score and comment of a rating message, or ``None`` when it starts with none."""
    match = _SCORE.match(text)
    if match is None:
        return None
    comment = text[match.end() :].strip() or None
    return int(match.group(1).translate(_FULL_WIDTH)), comment


async def take(
    turn: Turn, text: str, intent: str | None, memory: Mapping[str, Any]
) -> tuple[Step, dict[str, Any]] | None:
    """Store a rating or comment the bot asked for; return the reply and the new memory.

    ``None`` when the message is neither (the bot answers it as usual). The turn's ORM
    session is opened only to store one (most messages need none).
    """
    if "rating" in memory:
        scored = parse_score(text)
        if scored is None:
            return None
        score, comment = scored
        turn.session.add(Rating(ticket_id=int(memory["rating"]), score=score, comment=comment))
        if comment is None:
            ask = Step(Reply(texts.RATING_ASK_COMMENT), Action.ANSWER, INTENT)
            return ask, {"comment": memory["rating"]}
        return Step(Reply(texts.RATING_THANKS), Action.ANSWER, INTENT), {}
    if "comment" in memory and intent == DENY:  # "no": no comment to add
        return Step(Reply(texts.RATING_THANKS), Action.ANSWER, INTENT), {}
    if "comment" in memory and not (intent or "").startswith(_QUESTIONS):
        rating = await turn.session.scalar(
            select(Rating).where(Rating.ticket_id == int(memory["comment"]))
        )
        if rating is not None:
            rating.comment = text
        return Step(Reply(texts.RATING_THANKS), Action.ANSWER, INTENT), {}
    return None
