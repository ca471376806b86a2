"""The agent console in real headless Chromium: log in, take, read, reply, close."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.config import Settings
from tests.test_agent_api import add_agent

pytestmark = pytest.mark.browser


def start_customer(server: str, text: str) -> tuple[str, dict[str, str], dict]:
    with httpx.Client(base_url=server, timeout=30) as client:
        created = client.post("/api/v1/conversations", json={"timezone": "Europe/Berlin"}).json()
        auth = {"Authorization": f"Bearer {created['token']}"}
        replies = client.post(
            f"/api/v1/conversations/{created['id']}/messages", headers=auth, json={"text": text}
        ).json()["replies"]
    handoff = [r for r in replies if r["action"] == "handoff"]
    assert handoff and handoff[0]["ticket"], replies
    return created["id"], auth, handoff[0]["ticket"]


def transcript(server: str, conversation: str, auth: dict[str, str]) -> list[dict]:
    response = httpx.get(
        f"{server}/api/v1/conversations/{conversation}/messages", headers=auth, timeout=30
    )
    return list(response.json()["messages"])


def log_in(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/console/")
    page.fill("#login-name", "anna")
    page.fill("#login-password", "correct horse battery")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#desk:not([hidden])")


def test_an_agent_takes_replies_and_closes_in_the_console(
    settings: Settings,
    server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    add_agent(settings, "anna", ["en", "de"])
    conversation, auth, ticket = start_customer(
        server, "Ich möchte mit einem Menschen sprechen, meine Bestellung ORD20240001"
    )
    log_in(page, server)
    assert page.text_content("#agent-name") == "Anna"
    row = page.locator(f"#queue tbody tr[data-ticket='{ticket['id']}']")
    row.wait_for()
    assert "regular" in row.inner_text() and "de" in row.inner_text()
    assert re.search(r"in \d+ h", row.locator(".sla").inner_text())
    page.click("#take-next")
    page.wait_for_selector("#actions:not([hidden])")
    assert page.text_content("#ticket-language") == "de"
    assert page.text_content("#ticket-order") == "ORD20240001"
    assert "Ich möchte mit einem Menschen sprechen" in page.inner_text("#transcript")
    canned = page.locator("#canned button")
    assert canned.count() == 5 and "Anna" in canned.first.inner_text()
    canned.nth(1).click()
    assert "Bestellnummer" in page.input_value("#reply-text")
    page.fill("#reply-text", "Hallo, hier ist Anna. Ich prüfe Ihre Bestellung.")
    page.click("#reply button[type=submit]")
    page.locator("#transcript li.agent").filter(has_text="Ich prüfe Ihre Bestellung").wait_for()
    said = transcript(server, conversation, auth)
    assert ("agent", "Hallo, hier ist Anna. Ich prüfe Ihre Bestellung.") in [
        (m["sender"], m["text"]) for m in said
    ]
    page.fill("#close-note", "Delivery estimate explained.")
    page.click("#close button[type=submit]")
    page.wait_for_selector("#actions", state="hidden")
    assert page.text_content("#ticket-status") == "resolved (Anna)"
    last = transcript(server, conversation, auth)[-1]
    assert last["sender"] == "bot" and "5" in last["text"] and last["language"] == "de"
    with httpx.Client(base_url=server, timeout=30) as client:
        replies = client.post(
            f"/api/v1/conversations/{conversation}/messages",
            headers=auth,
            json={"text": "5 sehr gut"},
        ).json()["replies"]
    assert replies[0]["intent"] == "rating"


def test_html_in_a_customer_message_is_shown_as_text(
    settings: Settings,
    server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    add_agent(settings, "anna", ["en"])
    attack = (
        "I want to talk to a person <script>window.pwned = 1</script>"
        '<img src=x onerror="window.pwned = 2"><b>bold</b>'
    )
    _, _, ticket = start_customer(server, attack)
    log_in(page, server)
    page.click(f"#queue tbody tr[data-ticket='{ticket['id']}']")
    item = page.locator("#transcript li.customer").first
    item.wait_for()
    assert attack in item.inner_text()
    assert page.locator("#transcript script, #transcript img, #transcript b").count() == 0
    assert page.evaluate("window.pwned") is None
    page.click("#claim")
    page.wait_for_selector("#actions:not([hidden])")


def test_the_console_updates_live_without_waiting_for_its_poll(
    settings: Settings,
    server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    add_agent(settings, "anna", ["en"])
    log_in(page, server)
    page.wait_for_selector("#queue-empty:not([hidden])")
    page.wait_for_timeout(1000)  # the stream is open and its first refresh done
    conversation, auth, ticket = start_customer(server, "I want to talk to a person, please")
    # The console polls every 30 s; the ticket's event makes it read the queue at once.
    row = f"#queue tbody tr[data-ticket='{ticket['id']}']"
    page.locator(row).wait_for(timeout=10_000)
    page.click(row)
    page.click("#claim")
    page.wait_for_selector("#actions:not([hidden])")
    with httpx.Client(base_url=server, timeout=30) as client:
        client.post(
            f"/api/v1/conversations/{conversation}/messages",
            headers=auth,
            json={"text": "It is about order ORD2025000601"},
        )
    said = page.locator("#transcript li.customer").filter(has_text="ORD2025000601")
    said.wait_for(timeout=10_000)
