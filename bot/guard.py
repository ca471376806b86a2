"""The policy guard: what the platform does not handle, found twice over.

The NLU's intent is one piece of evidence; keyword patterns in all six locales are the
other, so a refusal never rests on one model's confidence. A message that mixes an
in-scope request with an out-of-scope one gets both: the answer, then the refusal.

Out of scope (policy sections 0, 2 and 4): customs clearance, taxes and duties, and
losses the customer caused (a leaked password or code, a payment outside the partner
channels, wrong order details).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.nlu import Parse
from bot.nlu.entities import normalize

CUSTOMS = "refuse_customs"
TAX = "refuse_tax"
OWN_LOSS = "refuse_own_loss"
REFUSAL_INTENTS = (CUSTOMS, TAX, OWN_LOSS)

#: Keyword evidence per refusal, covering en, de, ru, ko and both Chinese scripts.
KEYWORDS: Mapping[str, re.Pattern[str]] = {
    CUSTOMS: re.compile(
        r"\bcustoms?\b|\bclearance\b|\bzoll(?!stock)|\bzollamt|verzoll|\bтамож"
        r"|海关|海關|清关|清關|报关|報關|扣关|扣關|통관|세관",
        re.IGNORECASE,
    ),
    TAX: re.compile(
        r"\btax(es)?\b|\bduty\b|\bduties\b|\bvat\b|\bsteuer|\bsteuern\b|einfuhrumsatzsteuer"
        r"|mehrwertsteuer|\bmwst\b|\bzollgebühr|\bналог|\bпошлин|\bндс\b"
        r"|税|稅|세금|관세|부가세|부가가치세",
        re.IGNORECASE,
    ),
    OWN_LOSS: re.compile(
        r"(gave|told|shared|sent|leaked)\b.{0,30}\b(password|code|pin)\b"
        r"|(paid|pay|transfer\w*)\b.{0,40}\boutside\b"
        r"|(passwort|code|pin)\b.{0,30}\b(gegeben|verraten|geteilt|weitergegeben)"
        r"|außerhalb der plattform bezahlt"
        r"|(сообщил|отправил|передал|дал)\w*\b.{0,30}\b(парол|код)"
        r"|(оплатил|перевел|перевёл)\w*\b.{0,30}\bнапрямую"
        r"|把密码.{0,6}(给|告诉)|把密碼.{0,6}(給|告訴)|私下(转账|轉帳|付款)"
        r"|비밀번호를?.{0,10}(알려|줬|공유)|직접\s?(송금|입금)",
        re.IGNORECASE,
    ),
}
#: Below this confidence, the NLU's refusal is trusted only with keyword evidence.
REFUSAL_CONFIDENCE = 0.6


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to answer: an in-scope intent (or none) and the refusals to add after it."""

    intent: str | None
    refusals: tuple[str, ...]


def keyword_refusals(text: str) -> tuple[str, ...]:
    """Return the refusal intents whose keywords occur in ``text``."""
    plain = normalize(text)
    return tuple(intent for intent, pattern in KEYWORDS.items() if pattern.search(plain))


def check(parse: Parse, text: str) -> Verdict:
    """Split a message into what to answer and what to refuse.

    - A refusal intent from the NLU stands when it is confident or keywords back it.
    - Keywords alone add a refusal to an in-scope answer (mixed messages), or replace
      a "not understood".
    - An order number next to a refusal still gets the order answered.
    """
    found = list(keyword_refusals(text))
    intent = parse.intent
    if intent in REFUSAL_INTENTS:
        if parse.confidence >= REFUSAL_CONFIDENCE or intent in found:
            found.insert(0, intent)
        intent = _second_in_scope(parse)
    if intent is None and any(e.name == "order_number" for e in parse.entities) and found:
        intent = "order_status"
    if intent in ("urgent_account_theft", "abuse"):
        found = [r for r in found if r != OWN_LOSS]
    refusals = tuple(dict.fromkeys(found))
    return Verdict(intent, refusals)


def _second_in_scope(parse: Parse) -> str | None:
    """The runner-up intent when it is in scope and strong enough to answer as well."""
    for name, confidence in parse.ranking[1:2]:
        if name not in REFUSAL_INTENTS and confidence >= 0.25:
            return name
    return None
