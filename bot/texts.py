"""Every text a customer reads, as gettext message ids.

Handlers return these ids (wrapped in :class:`bot.core.Reply`); :mod:`bot.i18n`
renders them into the customer's language at the end. ``N_`` only marks a string
for ``pybabel extract``; it translates nothing. Placeholders use ``{name}``.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction; return it unchanged."""
    return message


# -- conversation basics ---------------------------------------------------------------
GREETING = N_(
    "Hello! I'm XOOBAY's support assistant. I can answer questions about our support "
    "policy, check the status of your order, or connect you with a support agent. "
    "How can I help?"
)
BOT_CAPABILITIES = N_(
    "I'm XOOBAY's AI support assistant, available 24/7. I answer questions about platform "
    "rules and our support policy, and I can check your order status as the platform "
    "system shows it. I pass complex questions to a human agent. I can't help with "
    "customs clearance or taxes."
)
GOODBYE = N_("Thank you for contacting XOOBAY support. Goodbye!")
THANKS = N_("You're welcome! Is there anything else I can help you with?")
CLARIFY = N_(
    "Sorry, I didn't understand that. Could you put it another way? You can ask me about "
    "our support channels and hours, your order status, or ask to talk to a person."
)
CLARIFY_OFFER_HUMAN = N_(
    "Sorry, I still didn't understand. Would you like me to connect you with a support agent?"
)
ERROR_GENERIC = N_(
    "Sorry, something went wrong on our side. Please try again in a moment, or email "
    "help@xoobay.com."
)

# -- languages ---------------------------------------------------------------------------
LANGUAGE_SWITCHED = N_("All right, I'll continue in English.")
UNSUPPORTED_LANGUAGE = N_(
    "Sorry, I can't reply in that language. I can help you in: {languages}. Please write "
    "to me in one of them."
)
FAQ_LANGUAGES = N_(
    "I can chat in {languages}. Write to me in any of them, or ask me to switch. Email "
    "support at help@xoobay.com covers these languages and more."
)

# -- quick-reply suggestions (button labels) -------------------------------------------
SUGGEST_HOURS = N_("Support hours")
SUGGEST_CONTACT = N_("Contact options")
SUGGEST_ORDER = N_("Order status")
SUGGEST_HUMAN = N_("Talk to a person")

# -- service hours -----------------------------------------------------------------------
HOURS_LOCAL = N_("In your time zone ({zone}) that is {start} to {end}.")

# -- input errors (the web chat and Telegram show these to the customer) -----------------
ERROR_EMPTY = N_("Please type a message.")
ERROR_TOO_LONG = N_("Your message is too long. Please keep it under {limit} characters.")

# -- orders (until the order lookup is connected) -------------------------------------------
ORDER_LOOKUP_UNAVAILABLE = N_(
    "I can't look up orders in this chat yet. Please email help@xoobay.com with your order "
    "number, or use Live Chat from 08:00 to 24:00 Hong Kong time."
)
HUMAN_CONTACTS = N_(
    "You can reach a person through Live Chat on our website or the hotline +852 9195 0500, "
    "from 08:00 to 24:00 Hong Kong time, or by email at help@xoobay.com at any time."
)

# -- the web chat widget's own labels (served by GET /api/v1/widget/strings) ---------------
WIDGET_TITLE = N_("XOOBAY support")
WIDGET_OPEN = N_("Chat with XOOBAY support")
WIDGET_CLOSE = N_("Close the chat")
WIDGET_LANGUAGE = N_("Language")
WIDGET_MESSAGES = N_("Conversation with XOOBAY support")
WIDGET_PLACEHOLDER = N_("Type your message…")
WIDGET_SEND = N_("Send")
WIDGET_TYPING = N_("typing…")
WIDGET_SUGGESTIONS = N_("Suggested replies")
WIDGET_YOU = N_("You")
WIDGET_BOT = N_("XOOBAY assistant")
WIDGET_AGENT = N_("Support agent")
WIDGET_RECONNECTING = N_("Connection lost. Reconnecting…")
WIDGET_SEND_FAILED = N_("Your message could not be sent. Please try again.")
WIDGET_IDENTITY_REJECTED = N_(
    "We could not confirm your customer account, so this chat continues without it."
)
