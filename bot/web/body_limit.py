"""The largest request body the app reads: :class:`BodyLimit` refuses longer ones early.

uvicorn hands an app a request body of any length, and every endpoint reads its body
whole before it looks at it, so without a limit a 200 MB message was read into memory
(the process went from 175 to 512 MB of RSS and kept it) before the pipeline refused it.
A request that says its length (``Content-Length``) over the limit is answered at once;
one that streams its body (chunked) is cut off when the bytes read pass the limit, and
its endpoint's read raises :class:`BodyTooLarge`, answered by the app's error handler.
Both answers are 413 with the API's JSON error (``request_too_large``).

Starlette's ``RequestBodyLimitMiddleware`` (FastAPI's ``max_body_size``) does the same
but answers in plain text, replacing any response the app starts for such a request.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """The request body went past the limit while an endpoint read it.

    An ``HTTPException``, so that FastAPI's body parsing passes it on instead of calling
    it a body it could not parse (400).
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes")
        self.limit = limit


def too_large(limit: int) -> JSONResponse:
    """The answer to a request whose body is over ``limit`` bytes."""
    message = f"The request body is over the limit of {limit} bytes."
    return JSONResponse({"error": {"code": "request_too_large", "message": message}}, 413)


class BodyLimit:
    """ASGI middleware: HTTP request bodies of at most ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 for a declared length over the limit; count a streamed body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > limit:
                await too_large(limit)(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server reads no more than declared
            return
        read = 0

        async def limited() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)
