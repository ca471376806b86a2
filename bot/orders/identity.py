"""Signed customer identities for the web chat, and the contact check of other channels.

The shop's website signs who is logged in when it opens the chat::

    expires = int(time.time()) + 600
    signature = sign_identity("C-1001", expires, WEBCHAT_IDENTITY_SECRET)
    POST /api/v1/conversations {"identity": {"customer_id": "C-1001",
                                             "expires": expires, "signature": signature}}

The signature is the hex HMAC-SHA256 of ``f"{customer_id}.{expires}"``. Everything is
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from bot.errors import InvalidIdentity
from bot.orders import Order

#: The phone digits compared at most (the national part; country codes vary in writing).
PHONE_DIGITS = 9
#: The fewest phone digits accepted ("the last 4 digits are enough").
MIN_PHONE_DIGITS = 4
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def sign_identity(customer_id: str, expires: int, secret: str) -> str:
    """Return the signature of a customer identity valid until ``expires`` (unix seconds)."""
    message = f"{customer_id}.{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_identity(
    customer_id: str, expires: int, signature: str, secret: str | None, now: float
) -> str:
    """Return ``customer_id`` when the signature is right and not expired.

    Raises:
        InvalidIdentity: No secret is configured, the signature is wrong or malformed, or
            ``expires`` has passed.
    """
    if not secret:
        raise InvalidIdentity("signed identities are not accepted (no secret configured)")
    given = signature.strip().lower()
    expected = sign_identity(customer_id, expires, secret)
    if not _SIGNATURE.fullmatch(given) or not hmac.compare_digest(expected, given):
        raise InvalidIdentity("the identity's signature is wrong")
    if expires < now:
        raise InvalidIdentity("the identity has expired")
    return customer_id


def normalize_email(email: str) -> str:
    """Return an email address as compared: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", email).strip().casefold()


def phone_digits(phone: str) -> str:
    """Return the digits of a phone number (full-width digits too)."""
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", phone))


def contact_matches(order: Order | None, email: str | None, phone: str | None) -> bool:
    """Whether the email or the phone (its last digits) is the one on the order.

    Constant time per comparison; an unknown order (``None``) is compared against
    nothing real, the same amount of work.
    """
    matched = False
    if email is not None:
        stored = normalize_email(order.email) if order and order.email else "\x00"
        matched |= hmac.compare_digest(normalize_email(email).encode(), stored.encode())
    if phone is not None:
        given = phone_digits(phone)
        if len(given) >= MIN_PHONE_DIGITS:
            width = min(len(given), PHONE_DIGITS)
            stored = phone_digits(order.phone) if order and order.phone else ""
            expected = stored[-width:] if len(stored) >= width else "\x00" * width
            matched |= hmac.compare_digest(given[-width:].encode(), expected.encode())
    return matched
