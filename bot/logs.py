"""Logging set-up: one format, and customers' emails and phone numbers masked.

Log lines may quote what a customer wrote or an address a channel reported; an email
address or a phone number never reaches the log in full. The mask keeps enough to tell
two values apart when debugging (``j***@example.com``, ``+852****0500``). A phone number
percent-encoded in a URL (``%2B852%209195...``) is not recognised; the bot's own URLs
carry none.

The whole line is masked as written, the traceback of an exception included (an error's
text may quote a message), and the web server's own loggers (uvicorn's errors and
access lines) write through the same handler (``serve`` gives uvicorn no logging set-up
of its own). Database errors never carry their statements' parameters in the first place
(the engines hide them: :func:`bot.storage.db.create_engine`).
"""

from __future__ import annotations

import logging
import re

#: An address, also percent-encoded as a URL's query carries it (``jane%40example.com``).
_EMAIL = re.compile(r"([\w.+-])[\w.+-]*(?:@|%40)([\w-]+(?:\.[\w-]+)+)")
_PHONE = re.compile(r"(?<![\w+])(\+?\d{1,4})[\d\s\-()]{4,14}(\d{4})(?!\w)")


def mask(text: str) -> str:
    """Return ``text`` with emails and phone numbers masked."""
    text = _EMAIL.sub(r"\1***@\2", text)
    return _PHONE.sub(r"\1****\2", text)


class MaskingFormatter(logging.Formatter):
    """Formats a record, then masks the whole text: message, traceback and stack."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record with emails and phone numbers masked."""
        return mask(super().format(record))


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    """Log to standard error at ``level``, masking personal data in every record."""
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("alembic.runtime.plugins", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
