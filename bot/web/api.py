"""The web chat HTTP API under ``/api/v1`` (OpenAPI at ``/docs``).

Errors are JSON, ``{"error": {"code", "message"}}``, with a 4xx status for anything the
client sent wrong and 503 when the database is unreachable; never a bare 500.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import texts
from bot.app import Components
from bot.core import Channel, Incoming, Reply
from bot.errors import (
    ConversationNotFound,
    EmptyMessage,
    InvalidIdentity,
    InvalidToken,
    MessageTooLong,
)
from bot.language import normalize_tag
from bot.orders.identity import verify_identity
from bot.web.body_limit import BodyTooLarge, too_large
from bot.web.direct import DirectRoute
from bot.web.limits import RateLimited
from bot.web.schemas import (
    ConversationCreated,
    ErrorOut,
    MessageIn,
    NewConversation,
    Replies,
    ReplyOut,
    TicketOut,
    Transcript,
    TranscriptMessage,
)

log = logging.getLogger(__name__)
INVALID_IDENTITY = (
    "The customer identity is not valid: its signature is wrong or it has expired. "
    "Open the chat again from the shop's website."
)
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not valid JSON."},
    401: {"model": ErrorOut, "description": "Missing or wrong bearer token."},
    403: {"model": ErrorOut, "description": "The signed identity is forged or expired."},
    404: {"model": ErrorOut, "description": "No such conversation."},
    422: {"model": ErrorOut, "description": "The request is malformed or the text empty."},
    429: {"model": ErrorOut, "description": "Too many requests; see Retry-After."},
    413: {
        "model": ErrorOut,
        "description": "The message is too long, or the request body over 1 MiB.",
    },
    503: {"model": ErrorOut, "description": "The database is unreachable or busy; retry later."},
}


class ApiError(Exception):
    """An error answer: status, code and message (and when to retry, for a 429)."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.retry_after = retry_after


def address_of(request: Request) -> str | None:
    """The client's address (uvicorn sets it from X-Forwarded-For for trusted proxies)."""
    return request.client.host if request.client else None


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _first_language(accept_language: str | None) -> str | None:
    """Return the first supported language of an ``Accept-Language`` header."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip()
        if tag and normalize_tag(tag):
            return tag[:35]
    return None


def router(bot: Components) -> APIRouter:
    """Build the ``/api/v1`` routes around the built bot."""
    api = APIRouter(prefix="/api/v1", tags=["web chat"])

    @api.post(
        "/conversations",
        status_code=201,
        response_model=ConversationCreated,
        responses={k: v for k, v in ERRORS.items() if k in (400, 403, 413, 422, 429, 503)},
    )
    async def create_conversation(
        request: Request,
        body: Annotated[NewConversation | None, Body()] = None,
        accept_language: Annotated[str | None, Header(max_length=500)] = None,
    ) -> ConversationCreated:
        """Start a conversation; keep the token to post its messages.

        Without a ``locale`` in the body, the browser's ``Accept-Language`` is the hint.
        """
        await bot.limits.check(address_of(request))
        body = body or NewConversation()
        hint = body.locale or _first_language(accept_language)
        customer = None
        if body.identity is not None:
            identity = body.identity
            try:
                customer = verify_identity(
                    identity.customer_id,
                    identity.expires,
                    identity.signature,
                    bot.settings.webchat_identity_secret,
                    time.time(),
                )
            except InvalidIdentity as error:
                log.info("identity refused: %s", error)
                raise ApiError(403, "invalid_identity", INVALID_IDENTITY) from None
        info, token = await bot.store.create_conversation(
            Channel.WEB, language_hint=hint, timezone=body.timezone, customer_ref=customer
        )
        return ConversationCreated(id=info.id, token=token)

    async def post_message(
        request: Request,
        conversation_id: str,
        message: MessageIn,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Replies:
        """Send a customer message and get the bot's replies."""
        await _verify(bot, conversation_id, authorization)
        try:
            await bot.limits.check(address_of(request), conversation_id)
        except RateLimited as error:
            reply = Reply(texts.ERROR_RATE_LIMITED, {"seconds": error.retry_after})
            text = bot.localizer.render(await _language(bot, conversation_id), reply)
            raise ApiError(429, "rate_limited", text, retry_after=error.retry_after) from None
        if message.language is not None and normalize_tag(message.language) is None:
            raise ApiError(422, "unsupported_language", f"Unsupported language: {message.language}")
        incoming = Incoming(
            conversation_id,
            message.text,
            message.client_message_id,
            chosen_language=message.language,
        )
        try:
            outgoing = await bot.pipeline.handle(incoming)
        except EmptyMessage:
            language = await _language(bot, conversation_id)
            raise ApiError(
                422, "empty_message", bot.localizer.render(language, Reply(texts.ERROR_EMPTY))
            ) from None
        except MessageTooLong as error:
            reply = Reply(texts.ERROR_TOO_LONG, {"limit": error.limit})
            language = await _language(bot, conversation_id)
            raise ApiError(413, "message_too_long", bot.localizer.render(language, reply)) from None
        return Replies(
            replies=[
                ReplyOut(
                    text=o.text,
                    language=o.language,
                    intent=o.intent,
                    action=o.action,
                    suggestions=list(o.suggestions),
                    details=o.details,
                    ticket=_ticket(o.details),
                )
                for o in outgoing
            ]
        )

    # every customer message is this request: handled directly (see bot.web.direct)
    api.add_api_route(
        "/conversations/{conversation_id}/messages",
        post_message,
        methods=["POST"],
        response_model=Replies,
        responses=ERRORS,
        route_class_override=DirectRoute,
    )

    @api.get(
        "/conversations/{conversation_id}/messages", response_model=Transcript, responses=ERRORS
    )
    async def get_messages(
        conversation_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> Transcript:
        """Return the conversation so far (to restore the chat after a page reload)."""
        await _verify(bot, conversation_id, authorization)
        rows = await bot.store.transcript(conversation_id)
        return Transcript(
            messages=[
                TranscriptMessage(
                    id=r.id,
                    direction=r.direction,
                    sender=r.sender,
                    text=r.text,
                    language=r.language,
                    intent=r.intent,
                    action=r.action,
                    sender_name=r.sender_name,
                    suggestions=list(r.suggestions),
                )
                for r in rows
            ]
        )

    return api


def _ticket(details: dict[str, Any]) -> TicketOut | None:
    """The ``ticket`` of a reply's details, when it opened one."""
    ticket = details.get("ticket")
    if not isinstance(ticket, dict) or "position" not in ticket:
        return None
    return TicketOut.model_validate(ticket)


async def _verify(bot: Components, conversation_id: str, authorization: str | None) -> None:
    """Check the bearer token of the request (an error answer when it is wrong)."""
    try:
        await bot.store.verify_token(conversation_id, _bearer(authorization))
    except ConversationNotFound:
        raise ApiError(404, "conversation_not_found", "No conversation has this id.") from None
    except InvalidToken:
        raise ApiError(401, "invalid_token", "Missing or wrong bearer token.") from None


async def _language(bot: Components, conversation_id: str) -> str:
    """The language to write an error in: the conversation's, or its hint's."""
    info = await bot.store.conversation(conversation_id)
    hint = normalize_tag(info.language_hint) if info is not None else None
    return (info.language if info is not None else None) or hint or "en"


def _error(status: int, code: str, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as JSON: 4xx for the client's mistakes, 503 when the DB is down."""

    async def api_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return _error(error.status, error.code, error.message, error.retry_after)

    async def invalid_request(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 400 and "parsing the body" in str(error.detail):
            return _error(400, "invalid_json", "The body is not valid JSON.")
        return _error(error.status_code, "http_error", str(error.detail))

    async def rate_limited(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RateLimited)
        message = "Too many requests. Retry later."
        return _error(429, "rate_limited", message, error.retry_after)

    async def body_too_large(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, BodyTooLarge)
        return too_large(error.limit)

    async def database_down(_: Request, error: Exception) -> JSONResponse:
        log.error("database error: %s", error.__class__.__name__, exc_info=error)
        return _error(503, "unavailable", "The service is temporarily unavailable. Retry later.")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RateLimited, rate_limited)
    app.add_exception_handler(BodyTooLarge, body_too_large)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OperationalError, database_down)
    app.add_exception_handler(DBAPIError, database_down)
    app.add_exception_handler(PoolTimeout, database_down)  # every connection stayed busy
