"""compose.yaml's stack in real containers: the bot's image, built from the Dockerfile,
twice behind nginx, with PostgreSQL and Redis.

Run by ``scripts/compose-stack --test`` (``.ci/run`` does), which builds and starts the
stack and gives its load balancer's address in ``STACK_URL``; the default test run
skips these (marker ``docker``). Everything goes through the published port on loopback,
as a customer's and an agent's browser would; the containers are reached with Compose.
"""

from __future__ import annotations

import functools
import os
import subprocess
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.processes import (
    AGENT_PASSWORD,
    ROOT,
    agent_session,
    answer_next_ticket,
    listen,
    say,
    wait_for,
)

pytestmark = pytest.mark.docker
APPS = ("app1", "app2")


@functools.cache
def compose_command() -> list[str]:
    """Compose as the script runs it: Docker's plugin if it is there, else docker-compose."""
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
    return ["docker", "compose"] if plugin.returncode == 0 else ["docker-compose"]


def compose(*args: str, stdin: str | None = None) -> str:
    """Run Compose on the stack's project (``COMPOSE_PROJECT_NAME`` from the script)."""
    result = subprocess.run(
        [*compose_command(), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def container(service: str) -> str:
    return compose("ps", "-q", service).strip()


def inspect(service: str, template: str) -> str:
    result = subprocess.run(
        ["docker", "inspect", "-f", template, container(service)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def logs(service: str) -> str:
    return compose("logs", "--no-color", service)


@pytest.fixture(scope="module")
def lb() -> str:
    url = os.environ.get("STACK_URL")
    if not url:
        pytest.skip("STACK_URL is not set: run scripts/compose-stack --test")
    return url


@pytest.fixture(scope="module")
def agent(lb: str) -> dict[str, str]:
    """An agent added in one app container, as a shop adds one; logged in through nginx."""
    login = f"anna-{uuid.uuid4().hex[:8]}"  # the stack may have served an earlier run
    compose(
        "exec", "-T", "app1", "/opt/venv/bin/python", "-m", "bot", "agents", "add", login,
        "--name", "Anna", "--languages", "en", "--password-stdin",
        stdin=f"{AGENT_PASSWORD}\n",
    )  # fmt: skip
    return agent_session(lb, login)


def conversation(lb: str) -> dict[str, str]:
    created = httpx.post(f"{lb}/api/v1/conversations", timeout=30)
    assert created.status_code == 201, created.text
    body: dict[str, str] = created.json()
    return body


def transcript(lb: str, created: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{lb}/api/v1/conversations/{created['id']}/messages",
        headers={"Authorization": f"Bearer {created['token']}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


def test_the_image_answers_customers_in_their_language_as_an_unprivileged_user(lb: str) -> None:
    assert httpx.get(f"{lb}/readyz", timeout=30).json()["database"] == "ok"
    created = conversation(lb)
    replies = say(lb, created, "Wie lange dauert die Rückerstattung?")
    assert {reply["language"] for reply in replies} == {"de"}
    replies = say(lb, created, "Как вернуть товар?")
    assert {reply["language"] for reply in replies} == {"ru"}
    for service in APPS:
        assert compose("exec", "-T", service, "id", "-u").strip() != "0"
        assert inspect(service, "{{.State.Health.Status}}") == "healthy"
    # The migration ran once, in its own container, before the apps started.
    assert inspect("migrate", "{{.State.ExitCode}}") == "0"


def test_an_agents_reply_reaches_the_customer_through_the_other_container(
    lb: str, agent: dict[str, str]
) -> None:
    created = conversation(lb)
    auth = {"Authorization": f"Bearer {created['token']}"}
    events, listener = listen(
        f"{lb}/api/v1/conversations/{created['id']}/events", auth, "Anna here", len(APPS)
    )
    asked = say(lb, created, "I want to talk to a person")
    assert any(reply["action"] == "handoff" for reply in asked), asked
    # nginx takes turns: the agent's two replies go one to each container, and whichever
    # holds the stream, one of them came through Redis from the other.
    ticket = answer_next_ticket(lb, agent, "Hi, Anna here.", len(APPS))
    listener.join(timeout=30)
    lines = list(events.queue)
    received = [line for line in lines if line.startswith("data:") and "Anna here" in line]
    assert len(received) == len(APPS), lines
    for service in APPS:
        assert f"POST /api/v1/agent/tickets/{ticket}/messages" in logs(service)


#: Customers writing while an app container crashes, each a message every PACE seconds
#: (under the shipped limit of 30 messages a minute per conversation).
CUSTOMERS, PACE = 8, 2.1


def test_a_crashed_app_container_loses_no_message_and_comes_back(lb: str) -> None:
    """SIGKILL to app1's process, as the kernel's OOM killer would send it, while customers
    write; the restart policy (unless-stopped) starts the container again."""
    chats = [conversation(lb) for _ in range(CUSTOMERS)]
    accepted: dict[str, list[str]] = {chat["id"]: [] for chat in chats}
    failures: list[int] = []
    stop = threading.Event()

    def customer(chat: dict[str, str]) -> None:
        # A request that finds no process is passed on to the other by nginx; one that the
        # dying process held fails (502), and the customer's client sends it again with
        # its client_message_id.
        number = 0
        while not stop.is_set():
            number += 1
            text = f"Where is my parcel? ({number})"
            for _ in range(20):
                answer = httpx.post(
                    f"{lb}/api/v1/conversations/{chat['id']}/messages",
                    headers={"Authorization": f"Bearer {chat['token']}"},
                    json={"text": text, "client_message_id": f"m{number}"},
                    timeout=30,
                )
                if answer.status_code == 200:
                    accepted[chat["id"]].append(text)
                    break
                failures.append(answer.status_code)
                time.sleep(0.5)
            else:
                return
            stop.wait(PACE)

    restarts = int(inspect("app1", "{{.RestartCount}}"))
    pid = int(inspect("app1", "{{.State.Pid}}"))
    threads = [threading.Thread(target=customer, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()
    try:
        time.sleep(PACE)
        subprocess.run(["kill", "-KILL", str(pid)], check=True, timeout=30)
        wait_for(lambda: int(inspect("app1", "{{.RestartCount}}")) > restarts, timeout=60)
        wait_for(lambda: inspect("app1", "{{.State.Health.Status}}") == "healthy", timeout=90)
        time.sleep(PACE)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    # At most the requests the killed process held failed, and each was sent again.
    assert set(failures) <= {502}, failures
    assert sum(len(texts) for texts in accepted.values()) > 3 * CUSTOMERS
    # Every message is in its conversation once, in order, the ones sent twice included.
    for chat in chats:
        customer_texts = [m["text"] for m in transcript(lb, chat) if m["direction"] == "in"]
        assert customer_texts == accepted[chat["id"]]
    # Both containers serve again: nginx reaches the restarted one.
    since = len(logs("app1"))
    created = conversation(lb)
    for _ in range(6):
        say(lb, created, "Hello")
    assert "POST /api/v1/conversations/" in logs("app1")[since:]


def test_a_restarted_postgresql_gives_a_clear_error_then_the_apps_recover(lb: str) -> None:
    created = conversation(lb)
    say(lb, created, "Hello")
    compose("stop", "postgres")
    try:
        answer = httpx.post(
            f"{lb}/api/v1/conversations/{created['id']}/messages",
            headers={"Authorization": f"Bearer {created['token']}"},
            json={"text": "Are you there?"},
            timeout=60,
        )
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "unavailable"
        assert httpx.get(f"{lb}/readyz", timeout=30).status_code == 503
    finally:
        compose("start", "postgres")
    # Neither app container restarts: each renews its connections by itself.
    wait_for(lambda: httpx.get(f"{lb}/readyz", timeout=30).status_code == 200, timeout=90)
    for _ in range(4):
        assert say(lb, created, "Hello again")
    assert [m["text"] for m in transcript(lb, created) if m["direction"] == "in"] == [
        "Hello",
        "Hello again",
        "Hello again",
        "Hello again",
        "Hello again",
    ]
