"""Which pages may use the chat API: WEBCHAT_ALLOWED_ORIGINS, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from bot.config import ConfigError, Settings
from tests.conftest import serving

SHOP = "http://shop.example:8080"


@pytest.fixture
def shop_allowed(settings: Settings, parts) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serving(replace(settings, webchat_allowed_origins=(SHOP,)), parts) as url:
        yield url


def test_an_allowed_origin_gets_cors_headers_and_a_preflight(shop_allowed: str) -> None:
    with httpx.Client(base_url=shop_allowed, timeout=10) as client:
        preflight = client.options(
            "/api/v1/conversations/x/messages",
            headers={
                "Origin": SHOP,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        created = client.post("/api/v1/conversations", headers={"Origin": SHOP})
        strings = client.get("/api/v1/widget/strings", headers={"Origin": SHOP})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert created.status_code == 201 and created.headers["access-control-allow-origin"] == SHOP
    assert "access-control-allow-credentials" not in created.headers
    assert strings.status_code == 200 and strings.headers["access-control-allow-origin"] == SHOP


@pytest.mark.parametrize("method", ["POST", "GET", "OPTIONS"])
def test_an_origin_not_allowed_is_refused_with_403_and_no_cors(
    shop_allowed: str, method: str
) -> None:
    path = "/api/v1/conversations" if method != "GET" else "/api/v1/widget/strings"
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    response = httpx.request(method, f"{shop_allowed}{path}", headers=headers, timeout=10)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert not any(name.startswith("access-control-") for name in response.headers)


def test_by_default_only_the_bots_own_pages_may_call(server: str) -> None:
    own = server  # http://127.0.0.1:PORT, the Host the pages were served from
    with httpx.Client(base_url=server, timeout=10) as client:
        same = client.post("/api/v1/conversations", headers={"Origin": own})
        no_origin = client.post("/api/v1/conversations")
        other = client.post("/api/v1/conversations", headers={"Origin": SHOP})
        not_api = client.get("/healthz", headers={"Origin": SHOP})
    assert same.status_code == 201 and "access-control-allow-origin" not in same.headers
    assert no_origin.status_code == 201
    assert other.status_code == 403
    assert not_api.status_code == 200  # pages and files are not the API


def test_any_origin_when_configured_with_a_star(settings: Settings, parts) -> None:  # type: ignore[no-untyped-def]
    with serving(replace(settings, webchat_allowed_origins=("*",)), parts) as url:
        response = httpx.post(f"{url}/api/v1/conversations", headers={"Origin": SHOP})
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ("", ()),
        ("https://shop.example", ("https://shop.example",)),
        (
            " https://Shop.example/ , http://127.0.0.1:8081",
            ("https://shop.example", "http://127.0.0.1:8081"),
        ),
        ("*", ("*",)),
    ],
)
def test_allowed_origins_are_read_from_the_environment(raw: str, origins: tuple[str, ...]) -> None:
    settings = Settings.from_env({"WEBCHAT_ALLOWED_ORIGINS": raw})
    assert settings.webchat_allowed_origins == origins


@pytest.mark.parametrize(
    "env",
    [
        {"WEBCHAT_ALLOWED_ORIGINS": "shop.example"},
        {"WEBCHAT_ALLOWED_ORIGINS": "https://shop.example/path"},
        {"WEBCHAT_HEARTBEAT_SECONDS": "0"},
        {"WEBCHAT_HEARTBEAT_SECONDS": "soon"},
    ],
)
def test_bad_webchat_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(env)


def test_the_heartbeat_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).webchat_heartbeat == 15.0
    assert Settings.from_env({"WEBCHAT_HEARTBEAT_SECONDS": "2.5"}).webchat_heartbeat == 2.5
