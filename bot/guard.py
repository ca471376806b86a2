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
        r"\btax(es)?\b|(import|customs|excise)\s+dut(y|ies)|dut(y|ies)\s+(and|&)\s+tax"
        r"|pay\w*\s+(any\s+|the\s+)?dut(y|ies)|dut(y|ies)\s+(fee|charge|amount|rate)s?"
        r"|how much (is the )?duty|\bvat\b|\bsteuer|\bsteuern\b|einfuhrumsatzsteuer"
        r"|mehrwertsteuer|\bmwst\b|\bzollgebühr|\bналог|\bпошлин|\bндс\b"
        r"|\babgaben\b|税|稅|세금|세율|관세|부가세|부가가치세",
        re.IGNORECASE,
    ),
    OWN_LOSS: re.compile(
        r"phishing|фишинг|钓鱼|釣魚|피싱"
        r"|(gave|told|shared|sent|leaked|knew)\b.{0,30}\b(password|code|pin|login|account)\b"
        r"|(paid|pay|transfer\w*|sent|wired)\b.{0,40}\b(outside|(directly|straight) to the seller"
        r"|seller'?s? (own )?(bank )?account)"
        r"|(direkt|privat) (an|auf) (den|das konto des) verkäufer|aufs konto des verkäufers"
        r"|(на карту|на сч[её]т) продавц|продавцу напрямую"
        r"|(直接|私下)(转账|轉帳|付款|汇款|匯款|打款)给?給?卖家|(直接|私下)(转账|轉帳|付款|汇款|匯款)給賣家"
        r"|판매자\s?(계좌|통장)로?|판매자에게\s?(바로|직접)\s?(송금|입금|이체)"
        r"|wrong (address|zip|postcode|post code|details|phone number)"
        r"|(passwort|code|pin|zugangsdaten|konto)\b.{0,30}\b(gegeben|verraten|geteilt|gesagt|kannte)"
        r"|kannte mein passwort|außerhalb (der plattform|von xoobay)"
        r"|falsche (adresse|plz|postleitzahl)"
        r"|(сообщил|отправил|передал|дал|рассказал|знал)\w*\b.{0,30}\b(парол|код|логин|аккаунт)"
        r"|(оплатил|перевел|перевёл|оплатить)\w*\b.{0,30}\bнапрямую|ошиб\w* в (адрес|номер|индекс)"
        r"|(вне|мимо) (xoobay|платформ|площадк|сайта)"
        r"|(密码|密碼|验证码|驗證碼|账号|帳號|账户|帳戶).{0,8}(给|給|告诉|告訴|借)"
        r"|(给|給|告诉|告訴|借).{0,8}(密码|密碼|验证码|驗證碼|账号|帳號|账户|帳戶)"
        r"|(平台外|私下).{0,6}(转账|轉帳|付款|汇款|匯款)|(填错|填錯|写错|寫錯).{0,6}(地址|邮编|郵遞區號|信息|資料)"
        r"|(비밀번호|비번|인증번호|계정|로그인 정보).{0,12}(알려|줬|공유|빌려)|직접\s?(송금|입금)"
        r"|계좌\s?이체|주소를?\s?잘못|(플랫폼|xoobay|사이트)\s?(밖|외부)에서\s?(결제|송금|입금|이체)",
        re.IGNORECASE,
    ),
}
#: Below this confidence, the NLU's refusal is trusted only with keyword evidence.
REFUSAL_CONFIDENCE = 0.65


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to answer: an in-scope intent (or none) and the refusals to add after it.

    Attributes:
        also: The message's other policy questions, answered beside ``intent``.
    """

    intent: str | None
    refusals: tuple[str, ...]
    also: tuple[str, ...] = ()


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
    if intent == "abuse":
        found = [r for r in found if r != OWN_LOSS]
    if intent in REFUSAL_INTENTS:
        if parse.confidence >= REFUSAL_CONFIDENCE or intent in found:
            found.insert(0, intent)
        intent = _second_in_scope(parse)
    if intent is None and any(e.name == "order_number" for e in parse.entities) and found:
        intent = "order_status"
    refusals = tuple(dict.fromkeys(found))
    return Verdict(intent, refusals, tuple(i for i in parse.also if i != intent))


def _second_in_scope(parse: Parse) -> str | None:
    """The runner-up intent when it is in scope and strong enough to answer as well."""
    for name, confidence in parse.ranking[1:2]:
        if name not in REFUSAL_INTENTS and confidence >= 0.5:
            return name
    return None
