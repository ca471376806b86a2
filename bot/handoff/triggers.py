"""When the bot hands a conversation to a person, and with which priority: pure decisions.

- the customer asks for a person (``ask_human``: words in any locale, ``/human``, the
  "Talk to a person" button) - regular;
- an urgent or complex matter in the policy's sense (section 4: ``urgent_*`` and
  ``complex_*`` intents) - urgent or complex; the bot still gives the policy's answer;
- two misunderstood messages in a row - regular;
- an escalation *request* (``faq_escalation`` said as a request, not asked about as a
  question; or asked after an earlier ticket of the conversation) - regular;
- the orders flow marked the conversation ``extra["handoff_priority"] == "urgent"`` (a
  refund overdue after a cancelled order) - urgent.

``handoff_priority`` raises any trigger's priority to urgent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.handoff.sla import Priority

ASK_HUMAN = "ask_human"
ESCALATION = "faq_escalation"
CANCEL = "cancel"
#: The key the orders flow sets in ``DialogueState.extra`` for an overdue refund.
PRIORITY_KEY = "handoff_priority"

#: Words that make an escalation message a question about escalating (how, can I, ...).
_QUESTION = re.compile(
    r"[?？]|^\s*(how|what|when|where|can i|could i|is it|do you|wie|was|wann|wo|kann ich|"
    r"gibt es|как|что|когда|где|можно ли)\b|如何|怎么|怎麼|怎样|怎樣|吗|嗎|어떻게|나요|까요|있어요",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Trigger:
    """A decision to open a ticket."""

    priority: Priority
    reason: str  # asked, urgent, complex, not_understood, escalation, overdue_refund


def escalation_requested(text: str, had_ticket: bool) -> bool:
    """An escalation message asks for escalation (not how it works), or follows a ticket."""
    return had_ticket or _QUESTION.search(text) is None


def decide(
    intent: str | None,
    text: str,
    misses: int,
    extra: Mapping[str, Any],
    had_ticket: bool,
) -> Trigger | None:
    """Return the trigger of one message, or ``None`` when the bot keeps the conversation.

    Args:
        intent: The in-scope intent the dialogue answered (``None``: not understood).
        text: The customer's message.
        misses: Misunderstood messages in a row, this one included.
        extra: The dialogue's per-feature memory (``handoff_priority``).
        had_ticket: The conversation had a ticket before (an escalation then counts).
    """
    found: Trigger | None = None
    if intent == ASK_HUMAN:
        found = Trigger(Priority.REGULAR, "asked")
    elif intent is not None and intent.startswith("urgent_"):
        found = Trigger(Priority.URGENT, "urgent")
    elif intent is not None and intent.startswith("complex_"):
        found = Trigger(Priority.COMPLEX, "complex")
    elif intent == ESCALATION and escalation_requested(text, had_ticket):
        found = Trigger(Priority.REGULAR, "escalation")
    elif intent is None and misses >= 2:
        found = Trigger(Priority.REGULAR, "not_understood")
    if extra.get(PRIORITY_KEY) == Priority.URGENT.value:
        return Trigger(Priority.URGENT, found.reason if found else "overdue_refund")
    return found
