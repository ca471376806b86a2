"""Entities found by pattern: order numbers, emails and phone numbers.

Text is NFKC-normalised first, so full-width ``ＯＲＤ２０２４…`` reads as ``ORD2024…``;
order numbers may be lower-case or spaced (``ord 2024 001234``).
"""

from __future__ import annotations

import re
import unicodedata

from bot.nlu import Entity

ORDER_NUMBER = re.compile(r"(?<![A-Za-z0-9])ORD[\s\-#:]*(\d(?:[\s\-]?\d){5,19})(?!\d)", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s\-()]{6,18}\d(?!\w)")


def normalize(text: str) -> str:
    """Return ``text`` NFKC-normalised (full-width letters and digits to ASCII)."""
    return unicodedata.normalize("NFKC", text)


def order_numbers(text: str) -> list[str]:
    """Return the order numbers in ``text``, canonical (``ORD`` + digits)."""
    found = []
    for match in ORDER_NUMBER.finditer(normalize(text)):
        number = "ORD" + re.sub(r"\D", "", match.group(1))
        if number not in found:
            found.append(number)
    return found


def extract(text: str) -> tuple[Entity, ...]:
    """Find order numbers, emails and phone numbers; positions refer to the NFKC text."""
    plain = normalize(text)
    entities: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in (("order_number", ORDER_NUMBER), ("email", EMAIL), ("phone", PHONE)):
        for match in pattern.finditer(plain):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            value = match.group(0)
            if name == "order_number":
                value = "ORD" + re.sub(r"\D", "", match.group(1))
            elif name == "phone":
                value = re.sub(r"[^\d+]", "", value)
            entities.append(Entity(name, value, match.start(), match.end()))
            taken.append((match.start(), match.end()))
    return tuple(sorted(entities, key=lambda e: e.start))
