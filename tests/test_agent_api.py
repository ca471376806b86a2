"""The agent API over real HTTP: log in, take, reply, close, and the errors it answers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from bot.config import Settings
from tests.conftest import serving
from tests.live_app import LiveApp, live_app
from tests.test_webchat_stream import events


def agents_command(settings: Settings, *args: str, password: str | None = None) -> str:
    """Run ``python -m bot agents ...`` against the test's database; return its output."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "agents", *args],
        input=password,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": settings.database_url, "LOG_LEVEL": "WARNING"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def add_agent(settings: Settings, login: str, languages: list[str], max_chats: int = 3) -> None:
    """Add an agent with the command line, the password on stdin."""
    agents_command(
        settings,
        "add",
        login,
        "--name",
        login.title(),
        "--languages",
        ",".join(languages),
        "--max-chats",
        str(max_chats),
        "--password-stdin",
        password="correct horse battery\n",
    )


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as http:
        yield http


def login(client: httpx.Client, name: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/agent/login", json={"login": name, "password": "correct horse battery"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def customer(client: httpx.Client, text: str) -> tuple[str, dict[str, str], list[dict]]:
    created = client.post("/api/v1/conversations").json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    replies = client.post(
        f"/api/v1/conversations/{created['id']}/messages", headers=auth, json={"text": text}
    ).json()["replies"]
    return created["id"], auth, replies


def error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.fixture
def agents(settings: Settings) -> Settings:
    add_agent(settings, "anna", ["en"])
    add_agent(settings, "ben", ["en", "de"])
    return settings


def test_take_reply_close_over_http(agents: Settings, client: httpx.Client) -> None:
    conversation, auth, replies = customer(client, "I want to talk to a person")
    assert replies[-1]["action"] == "handoff"
    ticket = replies[-1]["ticket"]
    assert set(ticket) == {"id", "priority", "position", "expected_wait_minutes"}
    anna, ben = login(client, "anna"), login(client, "ben")
    queue = client.get("/api/v1/agent/queue", headers=anna).json()
    assert [t["id"] for t in queue["tickets"]] == [ticket["id"]]
    assert queue["tickets"][0]["summary"]["intent"] == "ask_human"
    taken = client.post("/api/v1/agent/tickets/next", headers=anna).json()
    assert (taken["id"], taken["status"]) == (ticket["id"], "assigned")
    error(
        client.post(f"/api/v1/agent/tickets/{ticket['id']}/claim", headers=ben), 409, "ticket_taken"
    )
    error(client.post("/api/v1/agent/tickets/next", headers=ben), 404, "queue_empty")
    detail = client.get(f"/api/v1/agent/tickets/{ticket['id']}", headers=anna).json()
    assert detail["messages"][0]["text"] == "I want to talk to a person"
    assert len(detail["canned"]) == 5 and "Anna" in detail["canned"][0]
    path = f"/api/v1/agent/tickets/{ticket['id']}"
    error(client.post(f"{path}/messages", headers=ben, json={"text": "hi"}), 403, "not_your_ticket")
    assert (
        client.post(f"{path}/messages", headers=anna, json={"text": "Hi, Anna here."}).status_code
        == 204
    )
    closed = client.post(f"{path}/close", headers=anna, json={"note": "Answered."}).json()
    assert closed["status"] == "resolved" and closed["resolution_note"] == "Answered."
    error(
        client.post(f"{path}/messages", headers=anna, json={"text": "more"}), 409, "ticket_closed"
    )
    messages = client.get(f"/api/v1/conversations/{conversation}/messages", headers=auth).json()
    said = [(m["sender"], m["action"]) for m in messages["messages"]]
    assert ("agent", "agent") in said
    assert messages["messages"][-1]["text"].startswith("The support agent has closed your request")


def test_sessions_and_bad_input(agents: Settings, client: httpx.Client) -> None:
    error(client.get("/api/v1/agent/queue"), 401, "invalid_session")
    error(
        client.get("/api/v1/agent/queue", headers={"Authorization": "Bearer forged"}),
        401,
        "invalid_session",
    )
    error(
        client.post("/api/v1/agent/login", json={"login": "anna", "password": "nope"}),
        401,
        "wrong_login",
    )
    error(client.post("/api/v1/agent/login", json={"login": "anna"}), 422, "invalid_request")
    anna = login(client, "anna")
    assert client.get("/api/v1/agent/me", headers=anna).json()["languages"] == ["en"]
    error(client.get("/api/v1/agent/tickets/999", headers=anna), 404, "ticket_not_found")
    error(
        client.post("/api/v1/agent/tickets/999/close", headers=anna, json={"note": " "}),
        422,
        "empty_note",
    )
    error(
        client.post("/api/v1/agent/tickets/999/transfer", headers=anna, json={}),
        404,
        "ticket_not_found",
    )
    assert client.post("/api/v1/agent/logout", headers=anna).status_code == 204
    error(client.get("/api/v1/agent/me", headers=anna), 401, "invalid_session")


def test_the_console_page_is_served(client: httpx.Client) -> None:
    response = client.get("/console/")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert client.get("/console", follow_redirects=True).url.path == "/console/"
    assert client.get("/console/console.js").status_code == 200


def test_the_agents_command_lists_and_disables(agents: Settings, client: httpx.Client) -> None:
    listed = agents_command(agents, "list").splitlines()
    assert listed[0].split("\t")[:3] == ["login", "name", "languages"]
    assert [line.split("\t")[:3] for line in listed[1:]] == [
        ["anna", "Anna", "en"],
        ["ben", "Ben", "en,de"],
    ]
    anna = login(client, "anna")
    assert "disabled anna" in agents_command(agents, "disable", "anna")
    error(client.get("/api/v1/agent/me", headers=anna), 401, "invalid_session")
    assert "\tdisabled\t" in agents_command(agents, "list").splitlines()[1]


# -- the live stream ---------------------------------------------------------------------
@pytest.fixture
def live(settings: Settings, parts) -> Iterator[LiveApp]:  # type: ignore[no-untyped-def]
    add_agent(settings, "anna", ["en"])
    with live_app(replace(settings, webchat_heartbeat=0.5), parts) as served:
        yield served


def changes(response: httpx.Response, raw: list[str]) -> Iterator[tuple[str, object]]:
    """The stream's events but its pings; every line read is kept in ``raw``."""

    def lines() -> Iterator[str]:
        for line in response.iter_lines():
            raw.append(line)
            yield line

    return (event for event in events(lines()) if event[0] != "ping")


def test_the_agent_stream_names_the_ticket_that_changed_and_nothing_said(live: LiveApp) -> None:
    raw: list[str] = []
    with httpx.Client(base_url=live.url, timeout=10) as client:
        anna = login(client, "anna")
        with client.stream("GET", "/api/v1/agent/events", headers=anna) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = changes(response, raw)
            assert next(stream) == ("ready", {"heartbeat": 0.5})
            conversation, auth, replies = customer(client, "I want to talk to a person")
            ticket = replies[-1]["ticket"]["id"]
            assert next(stream) == ("ticket", {"ticket": ticket})  # opened
            secret = "my card is 4111 1111 1111 1111, mail me at eve@example.com"
            client.post(
                f"/api/v1/conversations/{conversation}/messages",
                headers=auth,
                json={"text": secret},
            )
            assert next(stream) == ("ticket", {"ticket": ticket})  # the customer said more
            taken = client.post("/api/v1/agent/tickets/next", headers=anna)
            assert taken.status_code == 200
            assert next(stream) == ("ticket", {"ticket": None})  # "Anna has joined" (the bot)
    said = "\n".join(raw)
    assert "4111" not in said and "eve@" not in said and "talk to a person" not in said


def test_the_agent_stream_needs_a_session_and_ends_with_it(live: LiveApp) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as client:
        error(client.get("/api/v1/agent/events"), 401, "invalid_session")
        forged = {"Authorization": "Bearer forged"}
        error(client.get("/api/v1/agent/events", headers=forged), 401, "invalid_session")
        anna = login(client, "anna")
        with client.stream("GET", "/api/v1/agent/events", headers=anna) as response:
            stream = changes(response, [])
            assert next(stream)[0] == "ready"
            assert client.post("/api/v1/agent/logout", headers=anna).status_code == 204
            # checked once per heartbeat (0.5 s): the stream says why, then ends
            assert next(stream) == ("ended", {"reason": "invalid_session"})
            assert next(stream, None) is None


def test_log_in_attempts_are_limited_per_login_name(agents: Settings, parts) -> None:  # type: ignore[no-untyped-def]
    with (
        serving(replace(agents, rate_limit_agent_login=3), parts) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        for guess in ("password1", "letmein", "hunter22"):
            wrong = {"login": "anna", "password": guess}
            error(client.post("/api/v1/agent/login", json=wrong), 401, "wrong_login")
        # the fourth attempt within the minute is refused before the password is checked
        right = {"login": " Anna ", "password": "correct horse battery"}
        refused = client.post("/api/v1/agent/login", json=right)
        error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert login(client, "ben")  # another name is not held up
