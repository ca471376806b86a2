"""A local fake of the Telegram Bot API, served over real HTTP for python-telegram-bot.

Run it with :meth:`FakeBotApi.start` (uvicorn in a background thread on a free loopback
port) and point PTB at :attr:`FakeBotApi.base_url`. It answers the methods the bot calls,
records every call (:attr:`FakeBotApi.calls`), builds updates the way Telegram shapes
them (:meth:`text`, :meth:`callback`, :meth:`sticker`, ...), queues them for
``getUpdates`` (:meth:`inject`), and fails the next call of a method on request
(:meth:`fail_next`, for 429 and 403).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "xoobay_support_bot"
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "XOOBAY Support",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
#: Parameters that are free text: never decoded as JSON.
TEXT_PARAMS = frozenset(
    {"text", "caption", "callback_query_id", "secret_token", "url", "language_code", "description"}
)
#: The longest a ``getUpdates`` long poll is held, whatever timeout the client asks.
MAX_POLL_WAIT = 2.0

Json = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One request to the fake: the method, its decoded parameters, the HTTP status."""

    method: str
    params: Json
    status: int = 200


@dataclass
class _Failure:
    status: int
    body: Json


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode(params: dict[str, str]) -> Json:
    decoded: Json = {}
    for key, value in params.items():
        if key in TEXT_PARAMS:
            decoded[key] = value
            continue
        try:
            decoded[key] = json.loads(value)
        except ValueError:
            decoded[key] = value
    return decoded


def user(user_id: int = 1001, *, language_code: str | None = "en", is_bot: bool = False) -> Json:
    """Return a Telegram ``User``."""
    person: Json = {"id": user_id, "is_bot": is_bot, "first_name": f"User{user_id}"}
    if language_code is not None:
        person["language_code"] = language_code
    return person


def private_chat(user_id: int = 1001) -> Json:
    """Return the private ``Chat`` of a user with the bot."""
    return {"id": user_id, "type": "private", "first_name": f"User{user_id}"}


def group_chat(chat_id: int = -1001234567890) -> Json:
    """Return a supergroup ``Chat``."""
    return {"id": chat_id, "type": "supergroup", "title": "XOOBAY Deutschland"}


@dataclass
class FakeBotApi:
    """The fake Bot API server and its recorded state (safe to use from any thread)."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    _updates: list[Json] = field(default_factory=list)
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    # -- the server ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as ``base_url`` (the token is appended)."""
        return f"{self.url}/bot"

    def start(self, timeout: float = 10.0) -> None:
        """Serve on a free loopback port in a background thread."""
        app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Bot API did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and wait for its thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        method = str(request.path_params["method"])
        params = await self._params(request)
        with self._lock:
            failures = self._failures.get(method.lower(), [])
            failure = failures.pop(0) if failures else None
        if failure is not None:
            self._record(Call(method, params, failure.status))
            return JSONResponse(failure.body, failure.status)
        handler = self._methods().get(method.lower())
        if handler is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
            return JSONResponse(body, 404)
        self._record(Call(method, params))
        if method.lower() == "getupdates":
            return JSONResponse({"ok": True, "result": await self._get_updates(params)})
        return JSONResponse({"ok": True, "result": handler(params)})

    @staticmethod
    async def _params(request: Request) -> Json:
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(json.loads(body or b"{}"))
        return _decode(dict(parse_qsl(body.decode(), keep_blank_values=True)))

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    # -- the methods -----------------------------------------------------------------------
    def _methods(self) -> dict[str, Callable[[Json], Any]]:
        true: Callable[[Json], Any] = lambda _: True  # noqa: E731
        return {
            "getme": lambda _: BOT_USER,
            "getupdates": lambda _: [],
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message,
            "editmessagereplymarkup": self._edit_message,
            "answercallbackquery": true,
            "setmycommands": true,
            "deletemycommands": true,
            "setwebhook": true,
            "deletewebhook": true,
            "getwebhookinfo": lambda _: {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": 0,
            },
            "close": true,
            "logout": true,
        }

    async def _get_updates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), MAX_POLL_WAIT)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.01)

    def _send_message(self, params: Json) -> Json:
        chat_id = params["chat_id"]
        chat = private_chat(chat_id) if int(chat_id) > 0 else group_chat(int(chat_id))
        message: Json = {
            "message_id": next(self._ids) + 100_000,
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
            "text": params["text"],
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _edit_message(self, params: Json) -> Json:
        return {**self._send_message({"text": "", **params}), "message_id": params["message_id"]}

    # -- controlling the fake --------------------------------------------------------------
    def fail_next(self, method: str, status: int, *, retry_after: int = 1) -> None:
        """Answer the next call of ``method`` with an error: 429 (flood) or 403 (blocked)."""
        if status == 429:
            body: Json = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
        else:
            body = {
                "ok": False,
                "error_code": status,
                "description": "Forbidden: bot was blocked by the user",
            }
        with self._lock:
            self._failures.setdefault(method.lower(), []).append(_Failure(status, body))

    def inject(self, update: Json) -> None:
        """Queue an update for ``getUpdates``."""
        with self._lock:
            self._updates.append(update)

    def requests(self, method: str) -> list[Call]:
        """Return the recorded calls of ``method`` (failed ones included)."""
        with self._lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent(self, chat_id: int | None = None) -> list[Json]:
        """Return the parameters of the messages sent successfully (to ``chat_id``)."""
        return [
            c.params
            for c in self.requests("sendMessage")
            if c.status == 200 and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    def clear(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self.calls.clear()

    async def wait_sent(
        self, count: int, *, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[Json]:
        """Wait until at least ``count`` messages were sent; return them.

        Raises:
            TimeoutError: Fewer arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while len(sent := self.sent(chat_id)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(sent)} of {count} messages sent within {timeout} s")
            await asyncio.sleep(0.02)
        return sent

    # -- updates as Telegram shapes them ---------------------------------------------------
    def _message(self, chat: Json, sender: Json | None, **fields: Any) -> Json:
        message: Json = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat}
        if sender is not None:
            message["from"] = sender
        message.update(fields)
        return message

    def _update(self, kind: str, payload: Json) -> Json:
        return {"update_id": next(self._ids), kind: payload}

    def text(
        self,
        text: str,
        *,
        sender: Json | None = None,
        chat: Json | None = None,
        reply_to: Json | None = None,
        **fields: Any,
    ) -> Json:
        """Return a ``message`` update with ``text`` (commands and @mentions get entities)."""
        sender = sender if sender is not None else user()
        chat = chat if chat is not None else private_chat(sender["id"])
        entities = _entities(text)
        if entities:
            fields["entities"] = entities
        if reply_to is not None:
            fields["reply_to_message"] = reply_to
        return self._update("message", self._message(chat, sender, text=text, **fields))

    def edited(self, text: str, *, sender: Json | None = None) -> Json:
        """Return an ``edited_message`` update."""
        sender = sender if sender is not None else user()
        message = self._message(private_chat(sender["id"]), sender, text=text)
        return self._update("edited_message", {**message, "edit_date": int(time.time())})

    def sticker(self, *, sender: Json | None = None) -> Json:
        """Return a private ``message`` update with a sticker and no text."""
        sender = sender if sender is not None else user()
        sticker = {
            "file_id": "CAACAgIAAxk",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self._update(
            "message", self._message(private_chat(sender["id"]), sender, sticker=sticker)
        )

    def from_channel(self, text: str, chat: Json | None = None) -> Json:
        """Return a group ``message`` update sent on behalf of a channel (``sender_chat``)."""
        channel = {"id": -1009999, "type": "channel", "title": "XOOBAY News"}
        bot_mention = f"@{BOT_USERNAME} {text}"
        message = self._message(
            chat or group_chat(),
            None,
            text=bot_mention,
            sender_chat=channel,
            entities=_entities(bot_mention),
        )
        return self._update("message", message)

    def callback(self, message: Json, data: str, *, sender: Json | None = None) -> Json:
        """Return a ``callback_query`` update: ``sender`` pressed a button of ``message``."""
        query = {
            "id": str(next(self._ids)),
            "from": sender if sender is not None else user(),
            "message": message,
            "chat_instance": "42",
            "data": data,
        }
        return self._update("callback_query", query)

    def bot_message(self, text: str, chat: Json) -> Json:
        """Return a message as the bot sent it (to reply to)."""
        return self._message(chat, BOT_USER, text=text)


def _entities(text: str) -> list[Json]:
    """Return the ``bot_command`` and ``mention`` entities Telegram would attach."""
    entities: list[Json] = []
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command)})
    start = 0
    while (found := text.find("@", start)) != -1:
        end = found + 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        if end - found > 1 and (found == 0 or text[found - 1].isspace()):
            entities.append(
                {"type": "mention", "offset": _utf16_len(text[:found]), "length": end - found}
            )
        start = end
    return entities
