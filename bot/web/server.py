"""The ASGI application: web chat API and widget, agent API and console, Telegram, health.

The agent console is served at ``/console/`` (static files) and talks to the agent
API at ``/api/v1/agent``.

Telegram starts with the app when ``TELEGRAM_BOT_TOKEN`` is set: long polling by
default, a webhook at ``/telegram/webhook`` when ``TELEGRAM_WEBHOOK_URL`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from bot import metrics
from bot.app import Components
from bot.core import Channel
from bot.handoff import tickets
from bot.handoff.sla import Priority
from bot.storage import db
from bot.web.agent_api import agent_router
from bot.web.api import install_error_handlers, router
from bot.web.body_limit import BodyLimit
from bot.web.direct import put_first
from bot.web.origins import OriginGuard
from bot.web.stream import events_router
from bot.web.widget import install_widget

log = logging.getLogger(__name__)
#: The agent console's page, script and style (no build step, no CDN).
CONSOLE = Path(__file__).resolve().parent / "static" / "console"
#: The largest request body any endpoint reads (1 MiB): a longer one is answered 413 as
#: soon as its Content-Length (or, streamed, its bytes so far) says so, before it is read
#: into memory. A message of ``MAX_MESSAGE_LENGTH`` characters takes at most 48 KB of JSON
#: (``\u`` escapes of surrogate pairs), so longer texts up to here still get the
#: pipeline's 413 in the customer's language.
MAX_BODY_BYTES = 1 << 20


def create_web_app(bot: Components) -> FastAPI:
    """Build the FastAPI app for ``bot``; closing the app stops Telegram and the database."""
    settings = bot.settings
    channel: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.telegram_bot_token:
            from bot import telegram  # python-telegram-bot is loaded only when configured

            application = telegram.build_application(
                settings.telegram_bot_token,
                settings.telegram_base_url,
                bot.pipeline,
                bot.store,
                bot.localizer,
                webhook_secret=settings.webhook_secret if settings.telegram_webhook_url else None,
            )
            if settings.telegram_webhook_url:
                await telegram.start_webhook(
                    application, settings.telegram_webhook_url, settings.webhook_secret
                )
            else:
                await telegram.run_polling(application)
            channel["telegram"] = application
            bot.delivery.register(Channel.TELEGRAM, telegram.sender(application))
        sweeper = asyncio.create_task(_release_offline_agents(bot))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            bot.delivery.unregister(Channel.TELEGRAM)
            if "telegram" in channel:
                from bot import telegram

                await telegram.stop(channel.pop("telegram"))
            await bot.close()

    app = FastAPI(
        title="XOOBAY support bot",
        version="1.0",
        description="Web chat API of XOOBAY's multilingual customer-support bot.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(OriginGuard, allowed=settings.webchat_allowed_origins)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    api = router(bot)
    app.include_router(api)
    put_first(app, api)  # every customer message: matched before the other routes
    app.include_router(events_router(bot))
    install_widget(app, bot.localizer)
    app.include_router(agent_router(bot))
    app.mount("/console", StaticFiles(directory=CONSOLE, html=True), name="console")

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Say the process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "Not ready."}})
    async def readyz() -> JSONResponse:
        """Say whether this process can serve: its database answers within 2 seconds."""
        try:
            await asyncio.wait_for(bot.store.ping(), timeout=2.0)
        except (TimeoutError, OSError, SQLAlchemyError) as error:
            log.warning("not ready: database unreachable (%s)", error.__class__.__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ready", "database": "ok"})

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus_metrics() -> Response:
        """Prometheus metrics of this process (text exposition format)."""
        try:
            queued, breached = await asyncio.wait_for(
                db.read_session(
                    bot.read_engine or bot.engine,
                    lambda session: tickets.queue_figures(session, datetime.now(UTC)),
                ),
                timeout=2.0,
            )
        except (TimeoutError, OSError, SQLAlchemyError):
            log.warning("metrics: the queue figures could not be read")
        else:
            for priority in Priority:
                metrics.QUEUE_LENGTH.labels(priority.value).set(queued.get(priority.value, 0))
            metrics.SLA_BREACHES.set(breached)
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    @app.post("/telegram/webhook", tags=["telegram"], include_in_schema=False)
    async def telegram_webhook(request: Request) -> JSONResponse:
        """Receive one Telegram update (webhook mode); the secret header is checked."""
        application = channel.get("telegram")
        if application is None or not settings.telegram_webhook_url:
            return _error(404, "not_found", "Telegram webhook mode is not enabled.")
        from bot import telegram

        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            body = None
        secret = request.headers.get(telegram.SECRET_HEADER)
        update = body if isinstance(body, dict) else {}
        if not await telegram.handle_webhook_update(
            application, update, secret, settings.webhook_secret
        ):
            return _error(403, "forbidden", "Wrong or missing secret token.")
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "The body is not a JSON object.")
        return JSONResponse({"ok": True})

    return app


async def _release_offline_agents(bot: Components, every: float = 30.0) -> None:
    """Every ``every`` seconds, return offline agents' tickets to the queue."""
    while True:
        await asyncio.sleep(every)
        try:
            released = await bot.desk.release_offline()
        except (OperationalError, DBAPIError) as error:
            log.warning("releasing offline agents' tickets failed: %s", error)
            continue
        if released:
            log.info("%d ticket(s) of offline agents returned to the queue", released)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status)
