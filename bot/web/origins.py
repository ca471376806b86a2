"""Which web pages may use the chat API: the embedding origins (CORS).

The widget runs inside a shop's pages, often on another origin than the bot's. For the
API under ``/api/v1``, :class:`OriginGuard` lets through requests without an ``Origin``
header (not from a browser page, or a same-origin ``GET``) and requests from the bot's
own origin; a listed origin (``WEBCHAT_ALLOWED_ORIGINS``) goes through Starlette's
``CORSMiddleware``, which answers preflights and adds the CORS headers; any other origin
is refused with 403 and a JSON error, without CORS headers, so the browser shows the
page nothing. Tokens travel in the ``Authorization`` header, never in cookies: no
credentials are allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = "/api/v1"


class OriginGuard:
    """ASGI middleware: CORS for the allowed origins of ``/api/v1``, 403 for the others."""

    def __init__(self, app: ASGIApp, allowed: Sequence[str] = ()) -> None:
        """Guard ``app``; ``allowed`` lists origins (``https://shop.example``) or ``*``."""
        self.app = app
        self.allow_any = "*" in allowed
        self.allowed = frozenset(o.rstrip("/").lower() for o in allowed if o != "*")
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"] if self.allow_any else sorted(self.allowed),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass, add CORS to, or refuse one request."""
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or _same_origin(origin, headers.get("host")):
            await self.app(scope, receive, send)
        elif self.allow_any or origin.rstrip("/").lower() in self.allowed:
            await self.cors(scope, receive, send)
        else:
            refusal = JSONResponse(
                {
                    "error": {
                        "code": "origin_not_allowed",
                        "message": f"Pages of {origin[:200]} may not use this chat "
                        "(see WEBCHAT_ALLOWED_ORIGINS).",
                    }
                },
                403,
            )
            await refusal(scope, receive, send)


def _same_origin(origin: str, host: str | None) -> bool:
    """Whether a page of ``origin`` is served by this host (behind a TLS proxy too)."""
    try:
        netloc = urlsplit(origin).netloc.lower()
    except ValueError:
        return False
    return bool(netloc) and netloc == (host or "").lower()
