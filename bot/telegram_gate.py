"""Which updates the bot takes on: no duplicates, and in groups only what is for it.

The same update delivered twice to one process (a webhook retry, a polling restart) is
taken on once (:class:`RecentUpdates`); a redelivery after a failure is handled again.
In a group the bot answers a message only when it is mentioned or replied to
(:func:`addressed_text`) - or for its commands, which the command handlers match.
"""

from __future__ import annotations

from collections import deque

from telegram import Message, MessageEntity


class RecentUpdates:
    """The ids of the updates this process took on lately (a bounded set)."""

    def __init__(self, size: int = 10_000) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size

    def claim(self, update_id: int) -> bool:
        """Take an update on; ``False`` when it was taken on already."""
        if update_id in self._ids:
            return False
        self._ids.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return True

    def release(self, update_id: int) -> None:
        """Forget an update that failed, so that a redelivery is handled again."""
        self._ids.discard(update_id)


def addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """Return a group message's text without the bot's mention, if it is for the bot.

    A message is for the bot when it mentions ``@username`` (or the bot by a text
    mention) or replies to one of the bot's messages; otherwise ``None``.
    """
    text = message.text or ""
    mentioned = False
    kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    for entity, value in message.parse_entities(kinds).items():
        by_name = entity.type == MessageEntity.MENTION and value.lower() == f"@{username}".lower()
        by_id = entity.user is not None and entity.user.id == bot_id
        if by_name or by_id:
            mentioned = True
            text = text.replace(value, " ") if by_name else text
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    if mentioned or (author is not None and author.id == bot_id):
        return " ".join(text.split())
    return None
