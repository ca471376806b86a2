"""A signed customer identity in the web chat API, over real HTTP, on both databases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.orders.demo import load_demo
from bot.orders.identity import sign_identity
from bot.storage.db import create_engine, upgrade
from tests.conftest import serving

SECRET = "shop-signing-secret"


async def _demo(url: str) -> None:
    engine = create_engine(url)
    try:
        await load_demo(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def client(database_url: str, settings: Settings, parts: Any) -> Iterator[httpx.Client]:
    """The app over HTTP with a signing secret and the demo catalogue."""
    upgrade(database_url)
    asyncio.run(_demo(database_url))
    configured = replace(settings, database_url=database_url, webchat_identity_secret=SECRET)
    with serving(configured, parts) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def identity(customer: str, expires: int, secret: str = SECRET) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "expires": expires,
        "signature": sign_identity(customer, expires, secret),
    }


def start(client: httpx.Client, body: dict[str, Any]) -> tuple[str, dict[str, str]]:
    response = client.post("/api/v1/conversations", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    return created["id"], {"Authorization": f"Bearer {created['token']}"}


def say(client: httpx.Client, chat: str, auth: dict[str, str], text: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/conversations/{chat}/messages", headers=auth, json={"text": text}
    )
    assert response.status_code == 200, response.text
    [reply] = response.json()["replies"]
    return reply  # type: ignore[no-any-return]


def test_a_signed_in_customer_sees_their_own_orders(client: httpx.Client) -> None:
    chat, auth = start(
        client, {"locale": "en", "identity": identity("C-1006", int(time.time()) + 600)}
    )
    mine = say(client, chat, auth, "show me my orders")
    assert mine["action"] == "order" and mine["intent"] == "my_orders"
    assert "ORD2025000601" in mine["text"] and "ORD2025000602" in mine["text"]
    assert "ORD2025000101" not in mine["text"]
    own = say(client, chat, auth, "what's the status of ORD2025000601")
    assert "UPS" in own["text"] and "1Z999AA10123456784" in own["text"]
    other = say(client, chat, auth, "what's the status of ORD2025000101")
    assert "DHL" not in other["text"] and "ORD2025000101" in other["text"]  # asks for proof


def test_without_identity_the_web_asks_for_proof(client: httpx.Client) -> None:
    chat, auth = start(client, {"locale": "en"})
    asked = say(client, chat, auth, "what's the status of ORD2025000601")
    assert "UPS" not in asked["text"] and asked["action"] == "order"
    assert "UPS" in say(client, chat, auth, "0132")["text"]


BAD = [
    pytest.param(lambda now: identity("C-1006", now - 5), id="expired"),
    pytest.param(lambda now: identity("C-1006", now + 600, "guessed-secret"), id="forged"),
    pytest.param(
        lambda now: {**identity("C-1006", now + 600), "customer_id": "C-1001"}, id="swapped"
    ),
    pytest.param(lambda now: {**identity("C-1006", now + 600), "signature": "00"}, id="short"),
]


@pytest.mark.parametrize("make", BAD)
def test_a_forged_or_expired_identity_is_refused(client: httpx.Client, make: Any) -> None:
    response = client.post("/api/v1/conversations", json={"identity": make(int(time.time()))})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "invalid_identity" and "C-10" not in error["message"]


def test_an_identity_without_a_configured_secret_is_refused(settings: Settings, parts: Any) -> None:
    with serving(settings, parts) as url:
        body = {"identity": identity("C-1006", int(time.time()) + 600)}
        response = httpx.post(f"{url}/api/v1/conversations", json=body, timeout=30)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_identity"


def test_a_malformed_identity_is_a_validation_error(client: httpx.Client) -> None:
    response = client.post("/api/v1/conversations", json={"identity": {"customer_id": ""}})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
