"""The dialogue: from what the customer wants to what the bot says.

It sees the NLU's reading, the language choice and the stored state, and returns
steps: a reply (message id and parameters), the action the reply takes and the quick
replies to offer. It never formats text itself; :mod:`bot.i18n` does that last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot import policy_texts as policy
from bot import texts
from bot.core import LANGUAGES, Action, Reply
from bot.guard import Verdict
from bot.language import LanguageChoice

#: "ok", "네" and "no", "괜찮아요": an answer to what a flow asked (:mod:`bot.orders.flow`,
#: :mod:`bot.handoff.rating`); asked nothing, a short acknowledgement.
AFFIRM, DENY = "affirm", "deny"
FAQ: Mapping[str, str] = {
    "bot_capabilities": texts.BOT_CAPABILITIES,
    "faq_contact_email": policy.FAQ_CONTACT_EMAIL,
    "faq_email_subject": policy.FAQ_EMAIL_SUBJECT,
    "faq_live_chat": policy.FAQ_LIVE_CHAT,
    "faq_hotline": policy.FAQ_HOTLINE,
    "faq_telegram_groups": policy.FAQ_TELEGRAM_GROUPS,
    "faq_service_hours": policy.FAQ_SERVICE_HOURS,
    "faq_response_times": policy.FAQ_RESPONSE_TIMES,
    "faq_resolution": policy.FAQ_RESOLUTION,
    "faq_platform_scope": policy.FAQ_PLATFORM_SCOPE,
    "faq_customer_duties": policy.FAQ_CUSTOMER_DUTIES,
    "faq_escalation": policy.FAQ_ESCALATION,
    "faq_feedback": policy.FAQ_FEEDBACK,
    "faq_payment": policy.FAQ_PAYMENT,
    "faq_logistics": policy.FAQ_LOGISTICS,
    "urgent_refund_missing": policy.URGENT_REFUND_MISSING,
    "urgent_account_theft": policy.URGENT_ACCOUNT_THEFT,
    "complex_return": policy.COMPLEX_RETURN,
    "complex_payment_anomaly": policy.COMPLEX_PAYMENT_ANOMALY,
    "greet": texts.GREETING,
    "goodbye": texts.GOODBYE,
    "thanks": texts.THANKS,
    AFFIRM: texts.AFFIRM,
    DENY: texts.DENY,
    "ask_human": texts.HUMAN_CONTACTS,
}
#: The intents answered by a text alone: the message's answer, or an aside beside it.
ANSWERS = frozenset({*FAQ, "faq_languages"})
#: Intents about orders: the dialogue asks for the number; :mod:`bot.orders.flow` takes
#: the message over from there (lookup, verification, status).
ORDER_INTENTS = frozenset({"order_status", "inform", "my_orders"})
REFUSALS: Mapping[str, str] = {
    "refuse_customs": policy.REFUSE_CUSTOMS,
    "refuse_tax": policy.REFUSE_TAX,
    "refuse_own_loss": policy.REFUSE_OWN_LOSS,
}
#: Intents whose answer mentions service hours, followed by the customer's local hours.
MENTIONS_HOURS = frozenset(
    {"faq_live_chat", "faq_hotline", "faq_service_hours", "ask_human", "urgent_refund_missing"}
)
SUGGESTIONS = (texts.SUGGEST_HOURS, texts.SUGGEST_CONTACT, texts.SUGGEST_ORDER, texts.SUGGEST_HUMAN)
SWITCH_INTENT = "switch_language"
#: Understood, and not the bot's to answer (small talk, account settings, cancelling an
#: order): it says so, what it can do instead, and offers the usual quick replies.
OUT_OF_SCOPE = "out_of_scope"
UNSUPPORTED_INTENT = "unsupported_language"
#: "I don't know", "I forgot which email I used": an answer to what the order flow asked
#: (:mod:`bot.orders.flow`); asked nothing, the dialogue does not understand it.
DONT_KNOW = "dont_know"


@dataclass(frozen=True, slots=True)
class Step:
    """One reply the dialogue decided on, before rendering.

    Attributes:
        more: Further paragraphs of the same reply, each on a line of its own.
        details: Machine-readable facts for the channel (see :class:`bot.core.Outgoing`).
        aside: The answer to another part of the same message (a question, a language
            asked for): a flow that takes the message over (orders, handoff) keeps it.
    """

    reply: Reply
    action: Action
    intent: str | None
    suggestions: tuple[str, ...] = ()
    local_hours: bool = False
    more: tuple[Reply, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    aside: bool = False


@dataclass(frozen=True, slots=True)
class DialogueState:
    """What the dialogue remembers between messages (stored with the conversation)."""

    misses: int = 0
    abuse_warnings: int = 0
    restricted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DialogueState:
        """Read the stored form; unknown keys are kept in ``extra``."""
        known = {"misses", "abuse_warnings", "restricted"}
        return cls(
            misses=int(data.get("misses", 0)),
            abuse_warnings=int(data.get("abuse_warnings", 0)),
            restricted=bool(data.get("restricted", False)),
            extra={k: v for k, v in data.items() if k not in known and k != "extra"},
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the stored form (``extra``'s keys beside the known ones).

        A new dictionary whose values are ``extra``'s own (it is written as JSON at
        once): ``dataclasses.asdict`` copied every nested value first, 31 against
        0.6 µs a message on the development machine.
        """
        return {
            **self.extra,
            "misses": self.misses,
            "abuse_warnings": self.abuse_warnings,
            "restricted": self.restricted,
        }


def respond(
    verdict: Verdict, choice: LanguageChoice, state: DialogueState
) -> tuple[list[Step], DialogueState]:
    """Decide the replies to one message and the state after it.

    Args:
        verdict: The policy guard's reading: an in-scope intent and refusals.
        choice: The language decision for this message.
        state: The state before the message.
    """
    if state.restricted:
        return [Step(Reply(policy.ABUSE_RESTRICTED), Action.REFUSE, "abuse")], state
    if choice.unsupported:
        reply = Reply(texts.UNSUPPORTED_LANGUAGE, {"languages": LANGUAGES})
        return [Step(reply, Action.CLARIFY, UNSUPPORTED_INTENT)], state
    if choice.explicit:
        switched = Step(Reply(texts.LANGUAGE_SWITCHED), Action.ANSWER, SWITCH_INTENT)
        if choice.rest is None:
            return [switched], replace(state, misses=0)
        steps, state = respond(verdict, replace(choice, explicit=False, rest=None), state)
        return [replace(switched, aside=True), *steps], state
    refusals = [Step(Reply(REFUSALS[r]), Action.REFUSE, r) for r in verdict.refusals]
    asides = [replace(_answer(i), aside=True) for i in verdict.also if i in ANSWERS]
    intent = verdict.intent
    known = intent in ANSWERS or intent in ORDER_INTENTS or intent in ("abuse", OUT_OF_SCOPE)
    if intent is None or not known:
        if refusals:
            return [*asides, *refusals], replace(state, misses=0)
        return _not_understood(state)
    state = replace(state, misses=0)
    if intent == "abuse":
        return _abuse(state)
    if intent in ORDER_INTENTS:  # the question for the number comes after the answers
        ask = Step(Reply(texts.ORDER_ASK_NUMBER), Action.ORDER, intent)
        return [*asides, ask, *refusals], state
    if intent == OUT_OF_SCOPE:
        step = Step(Reply(texts.OUT_OF_SCOPE), Action.ANSWER, intent, SUGGESTIONS)
        return [*asides, step, *refusals], state
    return [_answer(intent), *asides, *refusals], state


def _answer(intent: str) -> Step:
    if intent == "faq_languages":
        reply = Reply(texts.FAQ_LANGUAGES, {"languages": LANGUAGES})
        return Step(reply, Action.ANSWER, intent)
    return Step(Reply(FAQ[intent]), Action.ANSWER, intent, local_hours=intent in MENTIONS_HOURS)


def _not_understood(state: DialogueState) -> tuple[list[Step], DialogueState]:
    misses = state.misses + 1
    message = texts.CLARIFY_OFFER_HUMAN if misses >= 2 else texts.CLARIFY
    suggestions = (texts.SUGGEST_HUMAN,) if misses >= 2 else SUGGESTIONS
    return [Step(Reply(message), Action.CLARIFY, None, suggestions)], replace(state, misses=misses)


def _abuse(state: DialogueState) -> tuple[list[Step], DialogueState]:
    if state.abuse_warnings == 0:
        return [Step(Reply(policy.ABUSE_WARNING), Action.REFUSE, "abuse")], replace(
            state, abuse_warnings=1
        )
    restricted = replace(state, abuse_warnings=state.abuse_warnings + 1, restricted=True)
    return [Step(Reply(policy.ABUSE_RESTRICTED), Action.REFUSE, "abuse")], restricted
