"""The handoff's customer- and agent-facing texts, as gettext message ids.

Rendered like every other reply (:mod:`bot.i18n`); ``N_`` only marks them.
"""

from __future__ import annotations

from bot.texts import N_

# -- the customer, when a ticket opens or waits ------------------------------------------
TICKET_OPENED = N_(
    "I've passed your conversation to a support agent. Your ticket number is {ticket}. "
    "You are number {position} in the queue; the expected wait is about {wait}."
)
AGENTS_AWAY = N_(
    "Our agents are available from 08:00 to 24:00 Hong Kong time and are back at {when} "
    "({zone}). You can also email help@xoobay.com at any time; we reply within 24 hours "
    "on working days."
)
WAITING_ACK = N_(
    "Thank you, I've added your message to your ticket; the support agent will see it. "
    'To go back to the bot instead, write "cancel".'
)
ALREADY_QUEUED = N_(
    "You are already waiting for a support agent: ticket {ticket}, number {position} in the queue."
)
CANCELLED = N_(
    "I've cancelled your request for a support agent. I'm here to help again: what can I "
    "do for you?"
)
NOTHING_TO_CANCEL = N_(
    "There is no open request for a support agent to cancel. Is there anything else I can "
    "help you with?"
)
SUGGEST_CANCEL = N_("Cancel the request")

# -- the customer, while an agent handles the ticket ---------------------------------------
AGENT_JOINED = N_("{agent}, a support agent, has joined the conversation.")
TRANSFERRED = N_(
    "Your conversation has been passed to another support agent. Please wait a moment."
)

# -- the customer, after the ticket is closed (policy section 8) ----------------------------
RATING_REQUEST = N_(
    "The support agent has closed your request, and I'm here to help again. How would you "
    "rate the support you received, from 1 (poor) to 5 (excellent)? You can add a comment "
    "after the number."
)
RATING_ASK_COMMENT = N_(
    "Thank you for your rating! Would you like to add a comment? Just type it, or ask me "
    "anything else."
)
RATING_THANKS = N_(
    "Thank you for your feedback! We treat feedback as the main input for improving our support."
)

# -- canned replies the agent console offers, in the ticket's language ----------------------
CANNED_GREETING = N_(
    "Hello, my name is {agent}. I'm a XOOBAY support agent and I'm looking at your request now."
)
CANNED_DETAILS = N_(
    "Could you please send me your order number and a short description of the problem?"
)
CANNED_CHECKING = N_(
    "Thank you. I'm checking this with the responsible team; please stay in the chat."
)
CANNED_EVIDENCE = N_(
    "To look into this fully, please email help@xoobay.com with your order number and "
    "complete evidence (order screenshots, chat records)."
)
CANNED_CLOSING = N_(
    "Is there anything else I can help you with? If not, I'll close this conversation."
)
CANNED = (CANNED_GREETING, CANNED_DETAILS, CANNED_CHECKING, CANNED_EVIDENCE, CANNED_CLOSING)
