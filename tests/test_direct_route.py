"""bot.web.direct: the message endpoint's routes answer as FastAPI's own route would."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Header, Query, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import Action
from bot.web.api import install_error_handlers
from bot.web.direct import DirectRoute, FrontRoute, put_first
from bot.web.schemas import MessageIn, Replies, ReplyOut

PATH = "/api/v1/conversations/{conversation_id}/messages"


async def echo(
    request: Request,
    conversation_id: str,
    message: MessageIn,
    authorization: Annotated[str | None, Header()] = None,
) -> Replies:
    """Say back what the route handed over, in the message endpoint's shape."""
    said = f"{conversation_id}|{authorization}|{message.text}|{request.method}"
    reply = ReplyOut(
        text=said,
        language=message.language or "en",
        intent=message.client_message_id,
        action=Action.ANSWER,
        details={"length": len(message.text)},
    )
    return Replies(replies=[reply])


async def transcript(conversation_id: str) -> dict[str, str]:
    """Another method on the same path (the bot's transcript)."""
    return {"conversation": conversation_id}


def app(route_class: type | None, front: bool = False) -> FastAPI:
    """An app with the bot's error handlers and ``echo`` at the message endpoint's path.

    ``front``: with the route put first (:func:`put_first`), as the bot's app has it.
    """
    built = FastAPI()
    install_error_handlers(built)
    router = APIRouter()
    extra = {"route_class_override": route_class} if route_class else {}
    router.add_api_route(PATH, echo, methods=["POST"], response_model=Replies, **extra)
    router.add_api_route(PATH, transcript, methods=["GET"])
    built.include_router(router)
    if front:
        put_first(built, router)
    return built


DIRECT, STANDARD, FRONT = app(DirectRoute), app(None), app(DirectRoute, front=True)

texts = st.text(max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "text": texts | json_values,
        "client_message_id": st.none() | st.text(max_size=140) | st.integers(),
        "language": st.none() | st.sampled_from(["de", "zh-Hant", "x" * 40]) | st.integers(),
        "extra": json_values,
    },
)
bodies = (
    messages.map(lambda m: json.dumps(m).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=40)
    | messages.map(lambda m: json.dumps(m)[:-1].encode())  # cut short
    | st.just('{"text": "Grüße"}'.encode("latin-1"))  # not UTF-8
)
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
    ]
)


async def both(body: bytes, headers: dict[str, str]) -> tuple[httpx.Response, httpx.Response]:
    """Post ``body`` to the direct and to the standard route (and check the front one)."""
    answers = []
    for built in (DIRECT, STANDARD, FRONT):
        transport = httpx.ASGITransport(app=built)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            answers.append(
                await client.post(
                    "/api/v1/conversations/c-1/messages", content=body, headers=headers
                )
            )
    direct, standard, front = answers
    assert (front.status_code, front.content) == (direct.status_code, direct.content)
    assert front.headers["content-type"] == direct.headers["content-type"]
    return direct, standard


def outcome(response: httpx.Response) -> tuple[int, Any]:
    """What a client can tell apart: the status and the reply, or the error's code."""
    body = response.json()
    return response.status_code, body if response.status_code == 200 else body["error"]["code"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, content_type=content_types, token=st.none() | st.text(max_size=10))
def test_the_direct_route_answers_every_request_as_fastapis_route(
    body: bytes, content_type: str | None, token: str | None
) -> None:
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if token is not None and token.isascii() and token.isprintable():
        headers["Authorization"] = f"Bearer {token.strip()}"
    direct, standard = asyncio.run(both(body, headers))
    assert outcome(direct) == outcome(standard), (direct.text, standard.text)
    assert direct.headers["content-type"] == standard.headers["content-type"]


def test_a_valid_message_reaches_the_endpoint_with_its_path_header_and_body() -> None:
    body = json.dumps({"text": "Привет", "client_message_id": "m-1", "language": "ru"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer abc"}
    direct, standard = asyncio.run(both(body, headers))
    assert direct.status_code == 200
    reply = direct.json()["replies"][0]
    assert reply["text"] == "c-1|Bearer abc|Привет|POST"
    assert reply["intent"] == "m-1" and reply["language"] == "ru"
    assert reply["details"] == {"length": 6} and reply["ticket"] is None
    assert direct.json() == standard.json()


def test_the_openapi_document_is_the_same_as_for_fastapis_route() -> None:
    assert DIRECT.openapi() == STANDARD.openapi() == FRONT.openapi()


def test_the_front_route_takes_the_posts_and_leaves_the_rest_to_the_routes() -> None:
    front = FRONT.router.routes[0]
    assert isinstance(front, FrontRoute) and front.path_format == PATH
    calls = []
    handler = front._handler

    async def counted(request: Request) -> Any:
        calls.append(request.path_params["conversation_id"])
        return await handler(request)

    front._handler = counted  # type: ignore[method-assign]
    body = json.dumps({"text": "hallo"}).encode()

    async def requests() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=FRONT)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            headers = {"Content-Type": "application/json"}
            return [
                await client.post(
                    "/api/v1/conversations/c%202/messages", content=body, headers=headers
                ),
                await client.get("/api/v1/conversations/c-3/messages"),
                await client.put("/api/v1/conversations/c-3/messages", content=body),
                await client.post("/api/v1/conversations/c-3/messages/", content=body),
            ]

    try:
        posted, got, put, slash = asyncio.run(requests())
    finally:
        front._handler = handler  # type: ignore[method-assign]
    assert calls == ["c 2"]  # the POST only, with its path parameter decoded
    assert posted.json()["replies"][0]["text"].startswith("c 2|None|hallo|POST")
    assert got.json() == {"conversation": "c-3"}
    assert put.status_code == 405
    assert slash.status_code in (307, 404)


async def with_query(request: Request, message: MessageIn, q: Annotated[str, Query()]) -> Replies:
    raise AssertionError("never called")


async def with_checked_header(
    request: Request, message: MessageIn, x: Annotated[str | None, Header(max_length=5)] = None
) -> Replies:
    raise AssertionError("never called")


async def without_request(message: MessageIn) -> Replies:
    raise AssertionError("never called")


async def without_body(request: Request) -> Replies:
    raise AssertionError("never called")


@pytest.mark.parametrize(
    ("endpoint", "response_model"),
    [
        (with_query, Replies),
        (with_checked_header, Replies),
        (without_request, Replies),
        (without_body, Replies),
        (echo, dict[str, str]),
    ],
)
def test_an_endpoint_of_another_shape_is_refused_when_the_route_is_built(
    endpoint: Any, response_model: Any
) -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match=r"DirectRoute|plain str"):
        router.add_api_route(
            "/x",
            endpoint,
            methods=["POST"],
            response_model=response_model,
            route_class_override=DirectRoute,
        )


def test_an_empty_or_non_json_body_is_explained_to_the_client() -> None:
    empty, _ = asyncio.run(both(b"", {"Content-Type": "application/json"}))
    assert empty.status_code == 422 and empty.json()["error"]["message"] == "body: Field required"
    plain, _ = asyncio.run(both(b'{"text": "hi"}', {"Content-Type": "text/plain"}))
    assert plain.status_code == 422
    assert plain.json()["error"]["message"] == "body: Content-Type must be application/json"
