"""The web chat API over real HTTP: the contract, tokens, retries and bad input."""

from __future__ import annotations

import httpx
import pytest

from bot.app import Components
from bot.web.direct import FrontRoute
from bot.web.server import create_web_app

LANGUAGES = {"en", "zh-Hans", "zh-Hant", "ru", "de", "ko"}
ACTIONS = {"answer", "refuse", "order", "handoff", "clarify", "agent"}


@pytest.fixture
def client(server: str) -> httpx.Client:
    with httpx.Client(base_url=server, timeout=30) as http:
        yield http


def start(client: httpx.Client, **body: str) -> tuple[str, dict[str, str]]:
    response = client.post("/api/v1/conversations", json=body or None)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"id", "token"}
    return created["id"], {"Authorization": f"Bearer {created['token']}"}


def say(
    client: httpx.Client,
    conversation: str,
    auth: dict[str, str],
    text: str,
    message_id: str | None = None,
) -> httpx.Response:
    return client.post(
        f"/api/v1/conversations/{conversation}/messages",
        headers=auth,
        json={"text": text, "client_message_id": message_id},
    )


def stored(client: httpx.Client, conversation: str, auth: dict[str, str]) -> list[dict[str, str]]:
    response = client.get(f"/api/v1/conversations/{conversation}/messages", headers=auth)
    assert response.status_code == 200
    return list(response.json()["messages"])


def test_a_message_gets_replies_with_the_contract_fields(client: httpx.Client) -> None:
    conversation, auth = start(client)
    response = say(
        client, conversation, auth, "Guten Tag, wie erreiche ich den Support per E-Mail?"
    )
    assert response.status_code == 200, response.text
    replies = response.json()["replies"]
    assert replies
    for reply in replies:
        assert {"text", "language", "intent", "action"} <= set(reply)
        assert reply["language"] in LANGUAGES and reply["action"] in ACTIONS
    assert replies[0]["language"] == "de"
    assert replies[0]["intent"] == "faq_contact_email"
    assert "help@xoobay.com" in replies[0]["text"]


def test_the_body_of_a_new_conversation_is_optional_and_checked(client: httpx.Client) -> None:
    assert client.post("/api/v1/conversations").status_code == 201
    conversation, auth = start(client, locale="zh-TW", timezone="Asia/Taipei")
    reply = say(client, conversation, auth, "ORD2024001234").json()["replies"][0]
    assert reply["language"] == "zh-Hant"  # no language in the text: the hint decides
    bad = client.post("/api/v1/conversations", json={"locale": "x" * 100})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_a_retried_message_is_answered_once_and_stored_once(client: httpx.Client) -> None:
    conversation, auth = start(client)
    first = say(client, conversation, auth, "Hello!", "client-1").json()
    again = say(client, conversation, auth, "Hello!", "client-1").json()
    assert first == again
    assert [m["direction"] for m in stored(client, conversation, auth)].count("in") == 1


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "invalid_token"),
        ({"Authorization": "Bearer wrong"}, 401, "invalid_token"),
        ({"Authorization": "Basic abc"}, 401, "invalid_token"),
    ],
)
def test_a_wrong_or_missing_token_is_refused(
    client: httpx.Client, headers: dict[str, str], status: int, code: str
) -> None:
    conversation, auth = start(client)
    response = say(client, conversation, headers, "hello")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert stored(client, conversation, auth) == []


def test_an_unknown_conversation_is_404(client: httpx.Client) -> None:
    _, auth = start(client)
    response = say(client, "00000000-0000-0000-0000-000000000000", auth, "hello")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "conversation_not_found"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 422, "invalid_request"),
        (b"[]", 422, "invalid_request"),
        (b'{"client_message_id": "x"}', 422, "invalid_request"),
        (b'{"text": 42}', 422, "invalid_request"),
        (b'{"text": ""}', 422, "empty_message"),
        (b'{"text": "   \\n\\t "}', 422, "empty_message"),
        (b'{"text": "\\u0000\\u0007\\u001b"}', 422, "empty_message"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    client: httpx.Client, body: bytes, status: int, code: str
) -> None:
    conversation, auth = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        content=body,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert stored(client, conversation, auth) == []


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        (None, b'{"text": "hello"}', 422, "invalid_request"),
        ("text/plain", b'{"text": "hello"}', 422, "invalid_request"),
        ("application/json", b"", 422, "invalid_request"),
        ("application/json", b'"hello"', 422, "invalid_request"),
        ("application/json", '{"text": "héllo"}'.encode("latin-1"), 400, "invalid_json"),
        ("application/json", b'{"text": "hello", "language": 7}', 422, "invalid_request"),
    ],
)
def test_a_message_body_that_is_not_the_json_object_asked_is_refused(
    client: httpx.Client, content_type: str | None, body: bytes, status: int, code: str
) -> None:
    conversation, auth = start(client)
    headers = {**auth, "Content-Type": content_type} if content_type else auth
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", content=body, headers=headers
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if status == 422:
        assert error["message"].startswith("body")  # where in the request the error is
    assert stored(client, conversation, auth) == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
def test_json_content_types_with_parameters_or_suffixes_are_read(
    client: httpx.Client, content_type: str
) -> None:
    conversation, auth = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        content='{"text": "Привет"}'.encode(),
        headers={**auth, "Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["replies"][0]["language"] == "ru"


def test_100_kb_of_text_is_refused_in_the_conversation_language(client: httpx.Client) -> None:
    conversation, auth = start(client)
    assert say(client, conversation, auth, "Привет").status_code == 200
    response = say(client, conversation, auth, "я" * 100_000)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "message_too_long"
    assert "4" in error["message"] and "сообщение" in error["message"].lower()
    assert len(stored(client, conversation, auth)) == 2


BIG = b'{"text": "' + b"a" * (1 << 20) + b'"}'  # over the 1 MiB a request body may take


def chunks(body: bytes, size: int = 64 * 1024):  # type: ignore[no-untyped-def]
    """``body`` streamed: httpx sends it chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_1_mib_is_refused_before_it_is_read(
    client: httpx.Client, streamed: bool
) -> None:
    conversation, auth = start(client)
    headers = {**auth, "Content-Type": "application/json"}
    for path in (f"/api/v1/conversations/{conversation}/messages", "/api/v1/conversations"):
        content = chunks(BIG) if streamed else BIG
        response = client.post(path, content=content, headers=headers)
        assert response.status_code == 413, (path, response.text)
        assert response.json()["error"]["code"] == "request_too_large"
    assert stored(client, conversation, auth) == []
    # a streamed body under the limit is read as any other
    small = b'{"text": "Hello"}'
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", content=chunks(small, 4), headers=headers
    )
    assert response.status_code == 200, response.text
    assert len(stored(client, conversation, auth)) == 2


def test_control_characters_inside_text_are_dropped(client: httpx.Client) -> None:
    conversation, auth = start(client)
    response = say(client, conversation, auth, "Hello\u0000 there\u202e")
    assert response.status_code == 200
    assert stored(client, conversation, auth)[0]["text"] == "Hello  there"


def test_openapi_documents_the_contract(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/conversations" in spec["paths"]
    assert "/api/v1/conversations/{conversation_id}/messages" in spec["paths"]
    # the message endpoint is handled by bot.web.direct, and documented from its signature
    post = spec["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]
    body = post["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MessageIn"
    }
    assert {(p["name"], p["in"]) for p in post["parameters"]} == {
        ("conversation_id", "path"),
        ("authorization", "header"),
    }
    ok = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Replies"}
    assert {"401", "404", "413", "422", "429", "503"} <= set(post["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_the_browser_language_is_the_hint(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/conversations", headers={"Accept-Language": "fr-FR;q=1, ru-RU;q=0.8, en;q=0.5"}
    )
    created = response.json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    reply = say(client, created["id"], auth, "ORD2024001234").json()["replies"][0]
    assert reply["language"] == "ru"


def test_a_language_button_switches_the_conversation(client: httpx.Client) -> None:
    conversation, auth = start(client)
    assert say(client, conversation, auth, "Hello").json()["replies"][0]["language"] == "en"
    picked = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        headers=auth,
        json={"text": "한국어", "language": "ko"},
    ).json()["replies"][0]
    assert picked["language"] == "ko" and picked["intent"] == "switch_language"
    assert say(client, conversation, auth, "ok").json()["replies"][0]["language"] == "ko"
    bad = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        headers=auth,
        json={"text": "hi", "language": "fr"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unsupported_language"


async def test_every_customer_message_is_matched_before_the_other_routes(bot: Components) -> None:
    app = create_web_app(bot)
    first = app.router.routes[0]
    assert isinstance(first, FrontRoute)  # bot.web.direct.put_first
    assert first.path_format == "/api/v1/conversations/{conversation_id}/messages"
    assert first.route.methods == {"POST"}
