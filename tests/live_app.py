"""The web app served over real HTTP, with a hand on its parts for the test.

Like ``conftest.serving``, but the test keeps the built bot (to deliver an agent's
message) and the server's event loop (the bus lives there), and can cut every open
connection the way a failing proxy would.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from bot.app import Components, build
from bot.config import Settings
from bot.core import Action, Outgoing
from bot.storage.db import upgrade
from bot.web.server import create_web_app
from tests.service_hours import in_hours_clock


@dataclass
class LiveApp:
    """A served bot: its URL, its parts, and its server's loop."""

    url: str
    bot: Components
    server: uvicorn.Server
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        """Run ``coroutine`` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def agent_says(self, conversation_id: str, text: str, name: str = "Anna") -> None:
        """Deliver an agent's message to the conversation, as the agent console does."""
        outgoing = Outgoing(
            text=text,
            language="en",
            intent=None,
            action=Action.AGENT,
            sender="agent",
            sender_name=name,
        )
        self.run(self.bot.delivery.deliver(conversation_id, "web", None, outgoing))

    def subscribers(self, conversation_id: str) -> int:
        """How many streams listen to the conversation now."""

        async def count() -> int:
            return int(self.bot.events.subscribers(conversation_id))  # type: ignore[attr-defined]

        return int(self.run(count()))

    def drop_connections(self) -> None:
        """Cut every open HTTP connection, as a restarting proxy would."""

        def cut() -> None:
            for connection in list(self.server.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.close()

        self.loop.call_soon_threadsafe(cut)


@contextmanager
def live_app(settings: Settings, parts: Any) -> Iterator[LiveApp]:
    """Serve the bot for ``settings`` on a free loopback port until the block ends."""
    upgrade(settings.database_url)
    localizer, detector, nlu = parts
    bot = build(settings, localizer=localizer, detector=detector, nlu=nlu, clock=in_hours_clock)
    config = uvicorn.Config(
        create_web_app(bot),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveApp(f"http://127.0.0.1:{port}", bot, server, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        if not thread.is_alive():
            loop.close()
