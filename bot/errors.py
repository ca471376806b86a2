"""The errors of the bot, as a small tree.

    BotError
    ├── InputError            the customer's message cannot be handled as sent
    │   ├── EmptyMessage
    │   └── MessageTooLong
    ├── ConversationNotFound  no conversation has that id
    ├── InvalidToken          the bearer token is missing or wrong
    ├── NluUnavailable        the NLU backend did not answer (the pipeline falls back)
    ├── OrderServiceUnavailable  the order system did not answer usably (the customer
    │                            gets an apology and the offer of a person)
    └── InvalidIdentity       a web chat identity is forged, malformed or expired

Each error carries what a handler needs to answer safely; none carries secrets.
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class InputError(BotError):
    """The customer's message cannot be handled as sent."""


class EmptyMessage(InputError):
    """The message is empty or only white space and control characters."""


class MessageTooLong(InputError):
    """The message is longer than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"message longer than {limit} characters")
        self.limit = limit


class ConversationNotFound(BotError):
    """No conversation has that id."""


class InvalidToken(BotError):
    """The bearer token is missing or does not belong to the conversation."""


class NluUnavailable(BotError):
    """The NLU backend did not answer; the pipeline falls back to the embedded one."""


class OrderServiceUnavailable(BotError):
    """The order system is down, slow or answered something unusable."""


class InvalidIdentity(BotError):
    """A signed customer identity is forged, malformed or expired (or not accepted)."""
