"""The web chat's live stream (SSE), transcript and widget labels, over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from bot import texts
from bot.config import Settings
from bot.i18n import CATALOGS
from tests.live_app import LiveApp, live_app


@pytest.fixture
def app(settings: Settings, parts) -> Iterator[LiveApp]:  # type: ignore[no-untyped-def]
    with live_app(replace(settings, webchat_heartbeat=0.5), parts) as served:
        yield served


def start(client: httpx.Client) -> tuple[str, dict[str, str]]:
    created = client.post("/api/v1/conversations").json()
    return created["id"], {"Authorization": f"Bearer {created['token']}"}


def events(lines: Iterator[str]) -> Iterator[tuple[str, object]]:
    """Parse a ``text/event-stream``: (kind, data) per event, ("ping", None) per comment."""
    kind = "message"
    for line in lines:
        if line.startswith(":"):
            yield "ping", None
        elif line.startswith("event:"):
            kind = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            yield kind, json.loads(line.removeprefix("data:"))
            kind = "message"


def test_the_stream_sends_ready_then_pings_then_an_agents_message(app: LiveApp) -> None:
    with httpx.Client(base_url=app.url, timeout=10) as client:
        conversation, auth = start(client)
        with client.stream(
            "GET", f"/api/v1/conversations/{conversation}/events", headers=auth
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            stream = events(response.iter_lines())
            assert next(stream) == ("ready", {"heartbeat": 0.5})
            assert next(stream) == ("ping", None)  # 0.5 s of silence
            app.agent_says(conversation, "Hello, I am Anna. How can I help?")
            kind, data = next(e for e in stream if e[0] != "ping")
    assert kind == "message"
    assert isinstance(data, dict)
    assert data["text"] == "Hello, I am Anna. How can I help?"
    assert (data["sender"], data["sender_name"], data["action"]) == ("agent", "Anna", "agent")


def test_a_stream_hears_only_its_own_conversation(app: LiveApp) -> None:
    with httpx.Client(base_url=app.url, timeout=10) as client:
        mine, auth = start(client)
        other, _ = start(client)
        with client.stream("GET", f"/api/v1/conversations/{mine}/events", headers=auth) as response:
            stream = events(response.iter_lines())
            assert next(stream)[0] == "ready"
            app.agent_says(other, "Not for you", name="Bob")
            app.agent_says(mine, "For you", name="Anna")
            kind, data = next(e for e in stream if e[0] != "ping")
    assert kind == "message" and isinstance(data, dict) and data["text"] == "For you"


def test_a_closed_stream_unsubscribes(app: LiveApp) -> None:
    with httpx.Client(base_url=app.url, timeout=10) as client:
        conversation, auth = start(client)
        with client.stream(
            "GET", f"/api/v1/conversations/{conversation}/events", headers=auth
        ) as response:
            stream = events(response.iter_lines())  # kept: dropping it closes the connection
            assert next(stream)[0] == "ready"
            assert app.subscribers(conversation) == 1
    deadline = time.monotonic() + 15
    while app.subscribers(conversation) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert app.subscribers(conversation) == 0


@pytest.mark.parametrize(
    ("which", "token", "status", "code"),
    [
        ("own", None, 401, "invalid_token"),
        ("own", "wrong", 401, "invalid_token"),
        ("missing", "wrong", 404, "conversation_not_found"),
    ],
)
def test_the_stream_needs_the_conversations_token(
    server: str, which: str, token: str | None, status: int, code: str
) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        conversation, _ = start(client)
        target = conversation if which == "own" else "no-such-conversation"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.get(f"/api/v1/conversations/{target}/events", headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_the_stream_is_documented_in_openapi(server: str) -> None:
    spec = httpx.get(f"{server}/openapi.json").json()
    operation = spec["paths"]["/api/v1/conversations/{conversation_id}/events"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert {"401", "404"} <= set(operation["responses"])
    assert "/api/v1/widget/strings" in spec["paths"]


def test_the_transcript_numbers_messages_and_keeps_quick_replies(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        conversation, auth = start(client)
        url = f"/api/v1/conversations/{conversation}/messages"
        replies = client.post(url, headers=auth, json={"text": "xqzv wplk trrm"}).json()["replies"]
        client.post(url, headers=auth, json={"text": "what are your service hours?"})
        messages = client.get(url, headers=auth).json()["messages"]
    ids = [m["id"] for m in messages]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 4
    assert replies[0]["action"] == "clarify" and replies[0]["suggestions"]
    assert messages[1]["suggestions"] == replies[0]["suggestions"]
    assert messages[0]["suggestions"] == [] and messages[0]["sender_name"] is None


@pytest.mark.parametrize("language", list(CATALOGS))
def test_the_widget_labels_come_translated_from_the_catalogs(
    server: str, language: str, parts
) -> None:  # type: ignore[no-untyped-def]
    localizer = parts[0]
    answer = httpx.get(f"{server}/api/v1/widget/strings", params={"lang": language}).json()
    assert answer["language"] == language
    strings = answer["strings"]
    assert strings["placeholder"] == localizer.gettext(language, texts.WIDGET_PLACEHOLDER)
    assert strings["typing"] == localizer.gettext(language, texts.WIDGET_TYPING)
    assert all(isinstance(v, str) and v for v in strings.values())
    if language != "en":
        english = httpx.get(f"{server}/api/v1/widget/strings", params={"lang": "en"}).json()
        assert strings["send"] != english["strings"]["send"]
    names = {entry["tag"]: entry["name"] for entry in answer["languages"]}
    assert set(names) == set(CATALOGS)
    assert (names["de"], names["ru"], names["ko"]) == ("Deutsch", "русский", "한국어")


@pytest.mark.parametrize(
    ("asked", "given"), [("de-DE", "de"), ("zh-TW", "zh-Hant"), ("xx", "en"), (None, "en")]
)
def test_the_widget_labels_fall_back_to_the_nearest_language(
    server: str, asked: str | None, given: str
) -> None:
    params = {"lang": asked} if asked else {}
    answer = httpx.get(f"{server}/api/v1/widget/strings", params=params).json()
    assert answer["language"] == given


def test_the_widget_files_and_the_demo_page_are_served(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        script = client.get("/static/widget.js")
        css = client.get("/static/widget.css")
        demo = client.get("/demo")
        home = client.get("/", follow_redirects=False)
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert demo.status_code == 200 and demo.headers["content-type"].startswith("text/html")
    assert demo.text.count("<script") == 1 and 'src="/static/widget.js"' in demo.text
    assert home.status_code in (302, 307) and home.headers["location"] == "/demo"


def test_the_widget_never_puts_text_into_the_page_as_html() -> None:
    from bot.web.widget import STATIC_DIR

    source = (STATIC_DIR / "widget.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source
    assert "textContent" in source
