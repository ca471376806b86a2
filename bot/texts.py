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
AFFIRM = N_("All right. What else can I help you with?")
DENY = N_("All right. If you need anything else, just write to me.")
CLARIFY = N_(
    "Sorry, I didn't understand that. Could you put it another way? You can ask me about "
    "our support channels and hours, your order status, or ask to talk to a person."
)
OUT_OF_SCOPE = N_(
    "I'm sorry, that's not something I can help with. I can answer questions about "
    "XOOBAY's support policy and platform rules, check the status of your order, or "
    "connect you with a support agent."
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
ERROR_RATE_LIMITED = N_(
    "You are sending messages too quickly. Please wait {seconds} seconds and try again."
)

# -- orders -------------------------------------------------------------------------------
ORDER_ASK_NUMBER = N_(
    "Please tell me your order number. It starts with ORD followed by digits, for example "
    "ORD2024001234."
)
ORDER_BAD_NUMBER = N_(
    "That doesn't look like an order number. Order numbers start with ORD followed by 6 to "
    "20 digits, for example ORD2024001234."
)
ORDER_ASK_CONTACT = N_(
    "To protect your privacy, please confirm the email address or the phone number used for "
    "order {number}. The last 4 digits of the phone number are enough."
)
ORDER_CONTACT_FORMAT = N_(
    "Please send the email address or the phone number used for the order (at least the "
    "last 4 digits of the phone number)."
)
ORDER_NO_NUMBER = N_(
    "Without the order number I can't look an order up. If you open this chat signed in on "
    "the XOOBAY website, ask me for your orders and I'll list them; otherwise a support agent "
    "can help you."
)
ORDER_NO_CONTACT = N_(
    "I can only show order {number} once the email address or phone number used for it is "
    "confirmed. If you don't have them, a support agent can help you."
)
ORDER_NOT_VERIFIED = N_(
    "Sorry, I can't show an order for these details. Please check the order number and the "
    "email address or phone number used for the order."
)
ORDER_LOCKED = N_(
    "For your security, I can't check orders in this chat for a while after several "
    "unsuccessful attempts. Please try again in {minutes} minutes, or email help@xoobay.com."
)
ORDER_UNAVAILABLE = N_(
    "Sorry, I can't reach the order system right now. Please try again in a few minutes, "
    "or I can connect you with a person."
)
ORDER_SUMMARY = N_("Order {number}, placed on {placed}, total {total}. Status: {status}.")
ORDER_TRACKING = N_("Shipped on {shipped} with {carrier}, tracking number {tracking}.")
ORDER_DELIVERED_ON = N_("Delivered on {delivered}.")
ORDER_REFUND_OVERDUE = N_(
    "The refund for order {number} was due by {due} and is overdue. This is urgent under our "
    "support policy."
)
ORDER_GROUP_PRIVATE = N_(
    "For your privacy, I don't show order details in a group. Tap the button to continue "
    "in a private chat with me."
)
ORDER_OPEN_PRIVATE = N_("Continue in private chat")
ORDER_LINK_EXPIRED = N_(
    "This link has expired or was already used. Please tell me your order number here."
)
ORDER_MY_ORDERS = N_("Your orders:")
ORDER_LIST_LINE = N_("{number}, placed on {placed}: {status}")
ORDER_PICK = N_("To see one of them in detail, send me its order number.")
ORDER_MY_ORDERS_NONE = N_("I can't find any orders for your account.")
ORDER_MY_ORDERS_UNKNOWN = N_(
    "To list your orders I need to know it's you: open this chat while signed in on the "
    "XOOBAY website, or tell me an order number and confirm it with the email address or "
    "phone number used for the order."
)

# -- order statuses: a short name, and what it means with the next step ---------------------
STATUS_PENDING_PAYMENT = N_("pending payment")
STATUS_PAID = N_("paid")
STATUS_PROCESSING = N_("processing")
STATUS_SHIPPED = N_("shipped")
STATUS_IN_TRANSIT = N_("in transit")
STATUS_CUSTOMS_HOLD = N_("customs hold")
STATUS_DELIVERED = N_("delivered")
STATUS_CANCELLED = N_("cancelled")
STATUS_REFUND_PENDING = N_("refund pending")
STATUS_REFUNDED = N_("refunded")
MEANING_PENDING_PAYMENT = N_(
    "We have not received the payment yet. Please complete it through one of the "
    "platform's partner payment channels; the seller prepares the order once it is paid."
)
MEANING_PAID = N_(
    "Your payment has been received. The seller will prepare your order next; no action "
    "is needed from you."
)
MEANING_PROCESSING = N_(
    "The seller is preparing your order for shipping. You will see a tracking number here "
    "once it has been handed to the carrier."
)
MEANING_SHIPPED = N_(
    "The seller has handed your parcel to the carrier. You can follow it with the tracking "
    "number on the carrier's website."
)
MEANING_IN_TRANSIT = N_(
    "Your parcel is on its way with the carrier. You can follow it with the tracking number "
    "on the carrier's website."
)
MEANING_CUSTOMS_HOLD = N_("Your parcel is being held by customs in the destination country.")
MEANING_DELIVERED = N_(
    "The carrier reports your parcel as delivered. If you have not received it, please "
    "contact us with your order number."
)
MEANING_CANCELLED = N_(
    "This order has been cancelled. If you paid for it, the refund goes back through the "
    "partner payment channel you used."
)
MEANING_REFUND_PENDING = N_(
    "Your refund is being processed and goes back through the partner payment channel you used."
)
MEANING_REFUNDED = N_("Your refund has been issued through the partner payment channel you used.")

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
