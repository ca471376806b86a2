"""Faults: a process killed mid-conversation, PostgreSQL restarted under load.

Each test stops by itself and talks only to loopback: real bot processes, a real
PostgreSQL server of the test's own (so stopping it disturbs no other test).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import psycopg
import pytest

from bot.config import Settings
from tests.conftest import serving
from tests.processes import PrivatePostgres, bots

pytestmark = pytest.mark.postgres


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    try:
        yield server
    finally:
        server.remove()


def _send(url: str, conversation: dict[str, str], text: str, message_id: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/conversations/{conversation['id']}/messages",
        json={"text": text, "client_message_id": message_id},
        headers={"Authorization": f"Bearer {conversation['token']}"},
        timeout=30,
    )


def test_a_killed_process_loses_no_accepted_message_and_another_carries_on(
    postgres_url: str,
    nlu_model_path: Path,
    parts,  # type: ignore[no-untyped-def]
) -> None:
    env = {"DATABASE_URL": postgres_url, "NLU_MODEL_PATH": str(nlu_model_path)}
    with bots(1, env) as (first,), bots(1, env) as (second,):
        conversation = httpx.post(f"{first.url}/api/v1/conversations", timeout=30).json()
        accepted = []
        for n, text in enumerate(
            ["Hello", "What is the support email?", "When is live chat open?"]
        ):
            assert _send(first.url, conversation, text, f"m{n}").status_code == 200
            accepted.append(f"m{n}")
        in_flight: dict[str, object] = {}

        def post_then_die() -> None:
            try:
                in_flight["answer"] = _send(first.url, conversation, "Danke schön!", "m3")
            except httpx.HTTPError as error:
                in_flight["answer"] = error

        sender = threading.Thread(target=post_then_die)
        sender.start()
        time.sleep(0.01)
        first.kill()
        sender.join(timeout=30)
        # The customer's client retries the message it is not sure of, on another process.
        retried = _send(second.url, conversation, "Danke schön!", "m3")
        assert retried.status_code == 200 and retried.json()["replies"]
        assert _send(second.url, conversation, "How much import tax?", "m4").status_code == 200
        transcript = httpx.get(
            f"{second.url}/api/v1/conversations/{conversation['id']}/messages",
            headers={"Authorization": f"Bearer {conversation['token']}"},
            timeout=30,
        ).json()["messages"]
    received = [m["text"] for m in transcript if m["direction"] == "in"]
    assert received == [
        "Hello",
        "What is the support email?",
        "When is live chat open?",
        "Danke schön!",
        "How much import tax?",
    ]
    assert sum(m["direction"] == "out" for m in transcript) >= len(received)


def test_postgres_restarted_under_load_gives_clear_errors_then_recovers(
    private_postgres: PrivatePostgres,
    settings: Settings,
    parts,  # type: ignore[no-untyped-def]
) -> None:
    unlimited = replace(settings, rate_limit_per_conversation=0, rate_limit_per_address=0)
    with serving(replace(unlimited, database_url=private_postgres.url), parts) as url:
        statuses: list[int] = []
        answered: set[str] = set()

        async def customer(number: int, stop: asyncio.Event) -> None:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                conversation = (await client.post("/api/v1/conversations")).json()
                headers = {"Authorization": f"Bearer {conversation['token']}"}
                sent = 0
                while not stop.is_set():
                    message_id = f"c{number}-{sent}"
                    try:
                        answer = await client.post(
                            f"/api/v1/conversations/{conversation['id']}/messages",
                            json={
                                "text": "What is the support email?",
                                "client_message_id": message_id,
                            },
                            headers=headers,
                        )
                    except httpx.HTTPError:
                        statuses.append(0)
                        await asyncio.sleep(0.05)
                        continue
                    statuses.append(answer.status_code)
                    if answer.status_code == 200:
                        answered.add(message_id)
                        sent += 1
                    else:
                        assert answer.json()["error"]["code"] == "unavailable"
                        await asyncio.sleep(0.05)

        async def load() -> list[int]:
            stop = asyncio.Event()
            tasks = [asyncio.create_task(customer(n, stop)) for n in range(5)]
            await asyncio.sleep(1.0)
            await asyncio.to_thread(private_postgres.stop)
            await asyncio.sleep(1.5)
            down = len(statuses)
            await asyncio.to_thread(private_postgres.start)
            recovered_by = time.monotonic() + 15
            while time.monotonic() < recovered_by:
                await asyncio.sleep(0.5)
                if statuses[-5:] == [200] * 5:
                    break
            await asyncio.sleep(1.0)
            stop.set()
            await asyncio.gather(*tasks)
            return statuses[:down]

        during = asyncio.run(load())
        assert 503 in during, "requests while the database was down must fail clearly"
        assert set(statuses) <= {200, 503}, f"only answers or clear errors: {set(statuses)}"
        assert statuses[-5:] == [200] * 5, "the app recovers without a restart"
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200
    # Every answered message was stored, once (checked after the restart).
    import psycopg

    with psycopg.connect(private_postgres.url) as connection:
        stored = {
            row[0]
            for row in connection.execute(
                "SELECT client_message_id FROM messages WHERE direction = 'in'"
            )
        }
    assert answered <= stored


def test_every_connection_busy_gives_a_clear_503_and_the_waiting_messages_are_kept(
    postgres_url: str,
    settings: Settings,
    parts,  # type: ignore[no-untyped-def]
) -> None:
    # Two pooled connections (no overflow); another session holds two conversations'
    # rows, so two turns wait on their locks with both connections in hand.
    busy = replace(
        settings, database_url=postgres_url, database_pool_size=2, database_pool_timeout=0.5
    )
    with serving(busy, parts) as url:
        chats = [httpx.post(f"{url}/api/v1/conversations", timeout=10).json() for _ in range(3)]
        answers: dict[int, httpx.Response] = {}
        with psycopg.connect(postgres_url) as holder:
            for chat in chats[:2]:
                holder.execute(
                    "SELECT id FROM conversations WHERE id = %s FOR UPDATE", (chat["id"],)
                )

            def send(index: int) -> None:
                answers[index] = _send(url, chats[index], "Hello", f"held-{index}")

            waiting = [threading.Thread(target=send, args=(i,)) for i in range(2)]
            for thread in waiting:
                thread.start()
            time.sleep(1.0)  # both turns now hold a connection and wait for the row lock
            refused = _send(url, chats[2], "Hello", "m0")
            holder.rollback()
        for thread in waiting:
            thread.join(timeout=30)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "unavailable"
        assert [answers[i].status_code for i in range(2)] == [200, 200]
        assert _send(url, chats[2], "Hello", "m0").status_code == 200
        for chat in chats:
            transcript = httpx.get(
                f"{url}/api/v1/conversations/{chat['id']}/messages",
                headers={"Authorization": f"Bearer {chat['token']}"},
                timeout=10,
            ).json()["messages"]
            assert [m["text"] for m in transcript if m["direction"] == "in"] == ["Hello"]


def test_the_agent_stream_outlives_the_database_going_down(
    private_postgres: PrivatePostgres,
    settings: Settings,
    parts,  # type: ignore[no-untyped-def]
) -> None:
    from tests.test_agent_api import add_agent

    on_private = replace(settings, database_url=private_postgres.url, webchat_heartbeat=0.3)
    with serving(on_private, parts) as url:
        add_agent(on_private, "anna", ["en"])
        token = httpx.post(
            f"{url}/api/v1/agent/login",
            json={"login": "anna", "password": "correct horse battery"},
            timeout=30,
        ).json()["token"]
        session = {"Authorization": f"Bearer {token}"}
        lines: list[tuple[float, str]] = []

        def listen() -> None:
            with httpx.stream("GET", f"{url}/api/v1/agent/events", headers=session) as stream:
                for line in stream.iter_lines():
                    lines.append((time.monotonic(), line))

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        deadline = time.monotonic() + 15
        while not any(line.startswith("event: ready") for _, line in lines):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        private_postgres.stop()  # the session cannot be checked for several heartbeats
        down_from = time.monotonic()
        time.sleep(2.0)
        private_postgres.start()
        up_from = time.monotonic()
        pings_while_down = [t for t, line in lines if line == ": ping" and down_from < t < up_from]
        assert len(pings_while_down) >= 3, lines  # the stream stayed open
        deadline = time.monotonic() + 30
        while True:  # the app reconnects by itself; then logging out ends the stream
            logout = httpx.post(f"{url}/api/v1/agent/logout", headers=session, timeout=10)
            if logout.status_code == 204:
                break
            assert logout.status_code == 503 and time.monotonic() < deadline, logout.text
            time.sleep(0.5)
        listener.join(timeout=15)
    assert not listener.is_alive()
    assert ("event: ended") in [line for _, line in lines]
    assert 'data: {"reason": "invalid_session"}' in [line for _, line in lines]
