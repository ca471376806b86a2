"""Answers and refusals drawn from the support policy (``shared/policy/FACTS.md``).

Each text states only what the policy says, with its figures exactly. They are
gettext message ids like those in :mod:`bot.texts`.
"""

from __future__ import annotations

from bot.texts import N_

# -- channels ------------------------------------------------------------------------------
FAQ_CONTACT_EMAIL = N_(
    "You can email us at help@xoobay.com at any time. We reply within 24 hours on working "
    "days; public holidays are excluded and replies are postponed. Email support covers all "
    "platform-level questions, in English, Chinese (Simplified and Traditional), Russian, "
    "German, Korean and more."
)
FAQ_EMAIL_SUBJECT = N_(
    'Please write the subject as "Country/Region - Issue type - Order number", for example '
    '"HK - Order rules - ORD2024XXXX". It helps us find your case quickly.'
)
FAQ_LIVE_CHAT = N_(
    "Live Chat on our website is open from 08:00 to 24:00 Hong Kong time, and an agent "
    "joins within 1-5 minutes during those hours. It helps with order status, payment "
    "verification for partner payment channels and how to use platform functions. Your "
    "language is detected automatically, and you can switch the agent's language."
)
FAQ_HOTLINE = N_(
    "Our cross-border hotline is +852 9195 0500. Multilingual agents answer within 30 "
    "seconds from 08:00 to 24:00 Hong Kong time; from abroad you can call with "
    "international roaming. It is for urgent platform issues: platform steps after an "
    "order is cancelled, logistics channel information for partner channels, and "
    "payment-failure troubleshooting for partner payment channels."
)
FAQ_TELEGRAM_GROUPS = N_(
    "We run regional Telegram groups (Europe/Americas, Southeast Asia, Japan/Korea and "
    "more) with local support staff, who respond within 1 hour. They cover regional "
    "platform rules, logistics channel information for partner channels and platform "
    "guidance on after-sales addresses."
)
FAQ_SERVICE_HOURS = N_(
    "Live Chat and the hotline are staffed from 08:00 to 24:00 Hong Kong time. I, the AI "
    "support bot, am here 24/7, and you can email help@xoobay.com at any time (replies "
    "within 24 hours on working days)."
)

# -- response times, resolution, scope ---------------------------------------------------
FAQ_RESPONSE_TIMES = N_(
    "Response times count from when you have given us complete information.\n"
    "- Urgent (affects the platform order flow or money in a partner payment channel, such "
    "as a refund not received after cancelling an order): immediate response, by email "
    "within 24 hours. Best via the hotline or Live Chat.\n"
    "- Regular (such as platform rules on product compliance, delivery time estimates or "
    "payment fees): within 24 hours on working days, public holidays excluded.\n"
    "- Complex (needs several platform departments, such as a cross-border return): a "
    "first platform-level plan within 48 hours, with progress updates. Best by email with "
    "complete evidence."
)
FAQ_RESOLUTION = N_(
    "Resolution time counts from the day you provide all the required material. We send "
    "the result to the phone number or email address on your account."
)
FAQ_PLATFORM_SCOPE = N_(
    "XOOBAY is a technical-service and transaction-matching platform: it does not sell "
    "goods and is not a party to the sale. Sellers are responsible for product quality, "
    "delivery, after-sales service and accurate product descriptions. The platform does "
    "not handle customs clearance or taxes, and does not answer for losses caused on the "
    "customer's side. Our support helps with platform rules, logistics channel "
    "information, partner payment channels, reading public compliance policy and "
    "communicating across languages."
)
FAQ_CUSTOMER_DUTIES = N_(
    "Please keep to business etiquette with our support staff, without abusive or "
    "threatening language. Malicious harassment or repeated invalid claims (such as claims "
    "for customs responsibility or for losses you caused yourself) may lead us to restrict "
    "your support, for example to email only; serious cases may lead to account suspension "
    "under the XOOBAY User Agreement."
)
FAQ_ESCALATION = N_(
    "If you are not satisfied with our first solution or with its progress, you can ask "
    "for escalation. Escalation covers platform matters only."
)
FAQ_FEEDBACK = N_(
    "Thank you for telling us. We treat feedback and complaints as the main input for "
    "improving our support. You can write to help@xoobay.com or tell a support agent."
)
FAQ_PAYMENT = N_(
    "We help with multi-currency payments through the partner payment channels the "
    "platform publishes: payment verification, payment-failure troubleshooting and "
    "explanations of payment fees. We can't help with payments made outside these partner "
    "channels."
)
FAQ_LOGISTICS = N_(
    "We can give basic information on the platform's partner cross-border logistics "
    "channels and the platform's estimate of delivery times. This is information, not a "
    "delivery commitment: the seller is responsible for delivery. For a specific order, "
    "send me its order number."
)

# -- urgent and complex matters (policy section 4) ---------------------------------------
URGENT_REFUND_MISSING = N_(
    "A refund not received after a cancelled order is an urgent matter. Please call our "
    "hotline +852 9195 0500 or use Live Chat (08:00 to 24:00 Hong Kong time)."
)
URGENT_ACCOUNT_THEFT = N_(
    "Account theft is an urgent matter. The platform helps when a platform security "
    "vulnerability caused it; it can't compensate losses from a password or code leaked on "
    "the customer's side. A support agent can check your case: call +852 9195 0500 "
    "(08:00 to 24:00 Hong Kong time)."
)
COMPLEX_RETURN = N_(
    "A cross-border return or exchange needs several platform departments. You will get a "
    "first platform-level plan within 48 hours, with progress updates. Please email "
    "complete evidence (order screenshots, chat records) to help@xoobay.com."
)
COMPLEX_PAYMENT_ANOMALY = N_(
    "Investigating an anomaly in a partner payment channel needs several platform "
    "departments. You will get a first platform-level plan within 48 hours, with progress "
    "updates. Please email complete evidence (order screenshots, payment records) to "
    "help@xoobay.com."
)

# -- refusals (out of the platform's scope) ------------------------------------------------
REFUSE_CUSTOMS = N_(
    "I'm sorry, XOOBAY does not handle customs clearance, so I can't advise on customs "
    "procedures, documents, holds or appeals. Please contact the seller, your customs "
    "broker or agent, or the customs authority of the destination country."
)
REFUSE_TAX = N_(
    "I'm sorry, XOOBAY does not handle taxes or duties, so I can't tell you tax amounts or "
    "help with tax back-payments or disputes. Please contact the seller, your customs "
    "broker, or the tax authority of the destination country."
)
REFUSE_OWN_LOSS = N_(
    "I'm sorry, the platform can't take responsibility for losses that arise on the "
    "customer's side, such as a leaked account or password, a payment made outside the "
    "partner payment channels, or wrong order details. Please contact the party you dealt "
    "with (the seller or the non-partner payment provider), and your bank or the police if "
    "you were defrauded."
)
ABUSE_WARNING = N_(
    "Please keep our conversation respectful. Abusive or threatening language is against "
    "our support policy, and repeated abuse may restrict your support to email only."
)
ABUSE_RESTRICTED = N_(
    "Because of repeated abusive messages, your support is now restricted to email: "
    "help@xoobay.com."
)
