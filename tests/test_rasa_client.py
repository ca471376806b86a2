"""The Rasa backend's client: a good parse, and every way the server can fail."""

from __future__ import annotations

import socket
from dataclasses import replace

import httpx
import pytest

from bot.app import Components, build
from bot.config import Settings
from bot.core import Channel, Incoming
from bot.errors import NluUnavailable
from bot.nlu.rasa import RasaNlu
from bot.storage.db import upgrade

PARSE = {
    "text": "where is ORD2024001234",
    "intent": {"name": "order_status", "confidence": 0.93},
    "intent_ranking": [
        {"name": "order_status", "confidence": 0.93},
        {"name": "inform", "confidence": 0.05},
    ],
    "entities": [],
}


def rasa(handler: httpx.MockTransport) -> RasaNlu:
    return RasaNlu(httpx.AsyncClient(base_url="http://rasa", transport=handler), threshold=0.35)


async def test_a_parse_is_read() -> None:
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.content))
        return httpx.Response(200, json=PARSE)

    parse = await rasa(httpx.MockTransport(handle)).parse("where is ORD2024001234", "en")
    assert seen[0][0] == "/model/parse"
    assert parse.intent == "order_status" and parse.confidence == pytest.approx(0.93)
    assert parse.ranking[1] == ("inform", pytest.approx(0.05))
    assert [(e.name, e.value) for e in parse.entities] == [("order_number", "ORD2024001234")]


async def test_low_confidence_is_not_understood() -> None:
    body = {**PARSE, "intent": {"name": "greet", "confidence": 0.2}}
    parse = await rasa(httpx.MockTransport(lambda r: httpx.Response(200, json=body))).parse(
        "hm", "en"
    )
    assert parse.intent is None


@pytest.mark.parametrize(
    "respond",
    [
        lambda r: httpx.Response(500, text="boom"),
        lambda r: httpx.Response(200, text="not json"),
        lambda r: httpx.Response(200, json={"no": "intent"}),
        lambda r: httpx.Response(200, json=["a list"]),
    ],
)
async def test_a_broken_answer_is_unavailable(respond) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NluUnavailable):
        await rasa(httpx.MockTransport(respond)).parse("hello", "en")


async def test_a_timeout_is_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    with pytest.raises(NluUnavailable):
        await rasa(httpx.MockTransport(slow)).parse("hello", "en")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_bot_falls_back_to_the_embedded_nlu_when_rasa_is_down(
    settings: Settings,
    parts,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    down = replace(settings, nlu_backend="rasa", rasa_url=f"http://127.0.0.1:{_closed_port()}")
    upgrade(down.database_url)
    localizer, detector, _ = parts
    bot: Components = build(down, localizer=localizer, detector=detector)
    try:
        assert isinstance(bot.nlu, RasaNlu)
        info, _ = await bot.store.create_conversation(Channel.WEB)
        replies = await bot.pipeline.handle(Incoming(info.id, "What is your email address?"))
        assert replies[0].intent == "faq_contact_email"
        assert "embedded NLU" in caplog.text
    finally:
        await bot.close()
