"""The ASGI application: the web chat API and health check, around the built bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.app import Components
from bot.web.api import install_error_handlers, router


def create_web_app(bot: Components) -> FastAPI:
    """Build the FastAPI app for ``bot``; closing the app releases the database."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await bot.close()

    app = FastAPI(
        title="XOOBAY support bot",
        version="1.0",
        description="Web chat API of XOOBAY's multilingual customer-support bot.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(router(bot))

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Say the process is up."""
        return {"status": "ok"}

    return app
