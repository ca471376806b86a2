"""Authorization over real HTTP: nothing is readable without its token, session or proof.

- a conversation (transcript, live events, new messages) only with its own bearer token;
- a ticket's transcript only for its agent, or for agents who may take it (queued, their
  language); the agent API only with a live session;
- an order's details only after the owner's proof, in that conversation;
- the Telegram webhook only with its secret (tests/test_serve_telegram.py).
"""

from __future__ import annotations

import httpx

from bot.config import Settings
from tests.test_agent_api import add_agent, client, customer, error, login

__all__ = ["client"]  # the fixture, shared with the agent API tests


def test_a_conversation_is_closed_to_other_tokens(client: httpx.Client) -> None:
    mine, my_auth, _ = customer(client, "Hello")
    _, other_auth, _ = customer(client, "Hello")
    path = f"/api/v1/conversations/{mine}"
    for headers in ({}, other_auth, {"Authorization": "Bearer " + "x" * 43}):
        error(client.get(f"{path}/messages", headers=headers), 401, "invalid_token")
        error(client.get(f"{path}/events", headers=headers), 401, "invalid_token")
        error(
            client.post(f"{path}/messages", headers=headers, json={"text": "hi"}),
            401,
            "invalid_token",
        )
    assert client.get(f"{path}/messages", headers=my_auth).status_code == 200


def test_agents_see_only_their_tickets_and_those_they_may_take(
    settings: Settings, client: httpx.Client
) -> None:
    add_agent(settings, "anna", ["en"])
    add_agent(settings, "ben", ["en"])
    add_agent(settings, "olga", ["ru"])
    _, _, replies = customer(client, "I want to talk to a person, my card number is secret")
    ticket = next(r["ticket"] for r in replies if r["action"] == "handoff")["id"]
    anna, ben, olga = login(client, "anna"), login(client, "ben"), login(client, "olga")
    path = f"/api/v1/agent/tickets/{ticket}"
    # queued in English: the English-speaking agents may look before taking it
    assert client.get(path, headers=ben).status_code == 200
    error(client.get(path, headers=olga), 403, "not_your_ticket")
    assert client.post(f"{path}/claim", headers=anna).status_code == 200
    # taken by Anna: hers alone
    assert client.get(path, headers=anna).status_code == 200
    error(client.get(path, headers=ben), 403, "not_your_ticket")
    error(client.post(f"{path}/messages", headers=ben, json={"text": "hi"}), 403, "not_your_ticket")
    for headers in ({}, {"Authorization": "Bearer forged"}):
        error(client.get(path, headers=headers), 401, "invalid_session")
        error(client.get("/api/v1/agent/queue", headers=headers), 401, "invalid_session")


def test_an_order_is_shown_only_after_the_owners_proof_in_that_conversation(
    settings: Settings, client: httpx.Client
) -> None:
    import os
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "bot", "demo-data"],
        env={**os.environ, "DATABASE_URL": settings.database_url, "LOG_LEVEL": "ERROR"},
        check=True,
        capture_output=True,
        timeout=120,
    )
    owner, owner_auth, _ = customer(client, "where is ORD2025000601?")
    shown = client.post(
        f"/api/v1/conversations/{owner}/messages",
        headers=owner_auth,
        json={"text": "john.miller@example.com"},
    ).json()["replies"]
    assert "1Z999AA10123456784" in shown[0]["text"]
    _, _, asked = customer(client, "where is ORD2025000601?")
    assert all("1Z999AA10123456784" not in r["text"] for r in asked)
    assert all("shipped" not in r["text"].lower() for r in asked)
