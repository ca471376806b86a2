"""``python -m bot chat``: a conversation with the bot in the terminal.

Type a message and press Enter; an empty line or end of input (Ctrl-D) ends the chat.
The conversation is stored like any other, on the configured database.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.app import build
from bot.config import Settings
from bot.core import Channel, Incoming
from bot.errors import InputError
from bot.storage.db import upgrade


async def run_chat(settings: Settings, language_hint: str | None, timezone: str | None) -> int:
    """Chat on standard input and output until an empty line or end of input."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the chat, not the migrations
    await asyncio.to_thread(upgrade, settings.database_url)
    bot = build(settings)
    try:
        info, _ = await bot.store.create_conversation(
            Channel.CLI, language_hint=language_hint, timezone=timezone
        )
        interactive = sys.stdin.isatty()
        while True:
            if interactive:
                print("you> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line or not line.strip():
                return 0
            try:
                replies = await bot.pipeline.handle(Incoming(info.id, line.rstrip("\n")))
            except InputError as error:
                print(f"(not sent: {error})", file=sys.stderr)
                continue
            for reply in replies:
                print(f"bot [{reply.language} {reply.intent or '-'} {reply.action}]> {reply.text}")
                if reply.suggestions:
                    print("     " + " | ".join(f"[{s}]" for s in reply.suggestions))
            sys.stdout.flush()
    finally:
        await bot.close()
