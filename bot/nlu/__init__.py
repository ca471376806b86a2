"""Natural-language understanding: what the customer wants, and the data in it.

A backend has one method, ``parse``. The embedded classifier (trained from
``nlu_data/``) is the default; a Rasa server is the alternative at scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Entity:
    """A value found in the text: an order number, an email, a phone number."""

    name: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Parse:
    """The NLU's reading of one message.

    Attributes:
        also: Other questions the message asks, answered after ``intent`` (see
            :mod:`bot.clauses`).
    """

    intent: str | None
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    entities: tuple[Entity, ...] = field(default=())
    also: tuple[str, ...] = ()


class NluBackend(Protocol):
    """Anything that parses a message: the embedded classifier, a Rasa server, a fake."""

    async def parse(self, text: str, language: str) -> Parse:
        """Return the intent ranking and entities of ``text``."""
        ...
