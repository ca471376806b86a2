"""Logging set-up: one format, and customers' emails and phone numbers masked.

Log lines may quote what a customer wrote or an address a channel reported; an email
address or a phone number never reaches the log in full. The mask keeps enough to tell
two values apart when debugging (``j***@example.com``, ``+852****0500``).
"""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
_PHONE = re.compile(r"(?<![\w+])(\+?\d{1,4})[\d\s\-()]{4,14}(\d{4})(?!\w)")


def mask(text: str) -> str:
    """Return ``text`` with emails and phone numbers masked."""
    text = _EMAIL.sub(r"\1***@\2", text)
    return _PHONE.sub(r"\1****\2", text)


class MaskingFilter(logging.Filter):
    """Masks emails and phone numbers in every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record's message in place; never drop it."""
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure(level: str) -> None:
    """Log to standard error at ``level``, masking personal data in every record."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("alembic.runtime.plugins", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
