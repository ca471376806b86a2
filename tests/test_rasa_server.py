"""The Rasa backend against a real Rasa 3.6 server trained on nlu_data/.

Run by ``scripts/rasa-server --test`` (``.ci/run`` does), which starts the server on
loopback and sets ``RASA_URL``; deselected from the default run (marker ``rasa``).
"""

from __future__ import annotations

import os
from dataclasses import replace

import httpx
import pytest

from bot.app import build
from bot.config import Settings
from bot.core import Channel, Incoming
from bot.nlu.rasa import RasaNlu
from bot.storage.db import upgrade

pytestmark = pytest.mark.rasa

CASES = [
    ("Hello there!", "greet"),
    ("What is your email address?", "faq_contact_email"),
    ("Wie lautet die Telefonnummer der Hotline?", "faq_hotline"),
    ("Где мой заказ ORD2024001234?", "order_status"),
    ("我想找人工客服", "ask_human"),
    ("감사합니다", "thanks"),
    ("How much import duty will I have to pay?", "refuse_tax"),
]


@pytest.fixture
def rasa_url() -> str:
    url = os.environ.get("RASA_URL")
    if not url:
        pytest.fail("RASA_URL is not set: run scripts/rasa-server --test")
    return url


@pytest.mark.parametrize(("text", "intent"), CASES)
async def test_the_rasa_server_parses(rasa_url: str, text: str, intent: str) -> None:
    nlu = RasaNlu(httpx.AsyncClient(base_url=rasa_url, timeout=10), threshold=0.0)
    try:
        parse = await nlu.parse(text, "en")
    finally:
        await nlu.aclose()
    assert parse.intent == intent
    assert parse.ranking and parse.ranking[0][0] == intent


async def test_the_bot_answers_through_rasa(rasa_url: str, settings: Settings, parts) -> None:  # type: ignore[no-untyped-def]
    with_rasa = replace(settings, nlu_backend="rasa", rasa_url=rasa_url, rasa_timeout=10.0)
    upgrade(with_rasa.database_url)
    localizer, detector, _ = parts
    bot = build(with_rasa, localizer=localizer, detector=detector)
    try:
        assert isinstance(bot.nlu, RasaNlu)
        info, _ = await bot.store.create_conversation(Channel.WEB)
        replies = await bot.pipeline.handle(Incoming(info.id, "Welche E-Mail-Adresse habt ihr?"))
        assert replies[0].intent == "faq_contact_email" and replies[0].language == "de"
        assert "help@xoobay.com" in replies[0].text
        # a message of several sentences: each read by the server too (bot/clauses.py)
        info, _ = await bot.store.create_conversation(Channel.WEB)
        replies = await bot.pipeline.handle(Incoming(info.id, "Thanks! And where is my order?"))
        assert [r.intent for r in replies] == ["order_status"]
        info, _ = await bot.store.create_conversation(Channel.WEB)
        text = "What is your hotline number? And what is your email address?"
        replies = await bot.pipeline.handle(Incoming(info.id, text))
        # the whole message's reading comes first, whichever sentence it is
        assert sorted(r.intent or "" for r in replies) == ["faq_contact_email", "faq_hotline"]
    finally:
        await bot.close()
