"""The chat widget in real headless Chromium, against the real app over HTTP.

A customer on the demo shop page opens the chat, asks in three languages, gets an FAQ
answer, a refusal and the way to a person, sees an agent's message arrive without a
reload, reloads and finds the conversation again; a dropped connection is survived; a
page of another origin may embed the widget only when allowed.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot import policy_texts, texts
from bot.config import Settings
from bot.handoff import texts as handoff_texts
from bot.orders.identity import sign_identity
from tests.conftest import ARTIFACTS
from tests.live_app import LiveApp, live_app

pytestmark = pytest.mark.browser


@pytest.fixture
def app(settings: Settings, parts) -> Iterator[LiveApp]:  # type: ignore[no-untyped-def]
    with live_app(replace(settings, webchat_heartbeat=1.0), parts) as served:
        yield served


@pytest.fixture
def app_on(database_url: str, settings: Settings, parts) -> Iterator[LiveApp]:  # type: ignore[no-untyped-def]
    """The served bot on SQLite and on PostgreSQL."""
    chosen = replace(settings, database_url=database_url, webchat_heartbeat=1.0)
    with live_app(chosen, parts) as served:
        yield served


class Chat:
    """The widget as a customer sees it on ``page``."""

    def __init__(self, page: Page, localizer: Any) -> None:
        self.page = page
        self.localizer = localizer
        self.bubble = page.get_by_role("button", name=localizer.gettext("en", texts.WIDGET_OPEN))
        self.dialog = page.get_by_role("dialog")
        self.log = page.get_by_role("log")
        self.input = self.dialog.locator("textarea")

    def say(self, text: str) -> None:
        """Type a message and send it with Enter; wait for its answer."""
        answers = self.bot_messages().count()
        self.input.fill(text)
        self.input.press("Enter")
        expect(self.bot_messages()).to_have_count(answers + 1, timeout=30_000)

    def bot_messages(self) -> Any:
        return self.log.locator("li.from-bot")

    def last_answer(self) -> Any:
        return self.bot_messages().last.locator(".text")

    def stored(self) -> dict[str, Any]:
        """The conversation the widget keeps in localStorage."""
        saved = self.page.evaluate(
            "Object.entries(localStorage).find(([k]) => k.startsWith('xoobay-chat:'))[1]"
        )
        return dict(json.loads(saved))


def wait_for_stream(app: LiveApp, conversation: str) -> None:
    deadline = time.monotonic() + 15
    while app.subscribers(conversation) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert app.subscribers(conversation) >= 1, "the widget never opened its event stream"


def test_a_customer_chats_through_the_widget_on_the_demo_page(
    app: LiveApp, page: Page, parts
) -> None:  # type: ignore[no-untyped-def]
    localizer = parts[0]
    chat = Chat(page, localizer)
    page.goto(f"{app.url}/demo")
    expect(page.locator("script[src*='widget.js']")).to_have_count(1)

    chat.bubble.focus()
    page.keyboard.press("Enter")  # keyboard-usable: the bubble opens the dialog
    expect(chat.dialog).to_be_visible()
    expect(chat.bubble).to_have_attribute("aria-expanded", "true")
    expect(chat.input).to_be_focused()
    expect(chat.log).to_have_attribute("aria-live", "polite")
    expect(chat.input).to_have_attribute(
        "placeholder", localizer.gettext("en", texts.WIDGET_PLACEHOLDER)
    )

    page.evaluate(
        """() => {
        const typing = document.querySelector('#xoobay-chat').shadowRoot.querySelector('.typing');
        window.typingSeen = false;
        new MutationObserver(() => { if (!typing.hidden) window.typingSeen = true; })
            .observe(typing, {attributes: true});
    }"""
    )
    chat.say("what are your service hours?")
    expect(chat.last_answer()).to_have_text(localizer.gettext("en", policy_texts.FAQ_SERVICE_HOURS))
    assert page.evaluate("window.typingSeen") is True
    expect(chat.dialog.locator(".typing")).to_be_hidden()

    # German from the language picker (languages by their own names): labels and answers
    answers = chat.bot_messages().count()
    chat.dialog.get_by_role("combobox").select_option(label="Deutsch")
    expect(chat.bot_messages()).to_have_count(answers + 1, timeout=30_000)
    expect(chat.last_answer()).to_have_text(localizer.gettext("de", texts.LANGUAGE_SWITCHED))
    expect(chat.log.locator("li.from-customer .text").last).to_have_text("Deutsch")
    expect(chat.input).to_have_attribute(
        "placeholder", localizer.gettext("de", texts.WIDGET_PLACEHOLDER)
    )
    chat.say("Wann sind Sie erreichbar?")
    expect(chat.last_answer()).to_have_attribute("lang", "de")
    expect(chat.last_answer()).to_have_text(localizer.gettext("de", policy_texts.FAQ_SERVICE_HOURS))

    # Russian, simply written in Russian
    chat.say("Какой у вас адрес электронной почты поддержки?")
    expect(chat.last_answer()).to_have_attribute("lang", "ru")
    expect(chat.last_answer()).to_contain_text("help@xoobay.com")
    expect(chat.dialog.get_by_role("combobox")).to_have_value("ru")
    expect(chat.dialog.get_by_role("button", name=localizer.gettext("ru", texts.WIDGET_SEND)))

    # a customs question: refused, naming who can help
    chat.say("How do I get my parcel through customs clearance?")
    expect(chat.last_answer()).to_have_text(localizer.gettext("en", policy_texts.REFUSE_CUSTOMS))

    # not understood: quick replies; one of them asks for a person
    chat.say("xqzv wplk trrm")
    human = localizer.gettext("en", texts.SUGGEST_HUMAN)
    quick = chat.dialog.get_by_role("group", name=localizer.gettext("en", texts.WIDGET_SUGGESTIONS))
    expect(quick.get_by_role("button")).to_have_count(4)
    answers = chat.bot_messages().count()
    quick.get_by_role("button", name=human).click()
    expect(chat.bot_messages()).to_have_count(answers + 1, timeout=30_000)
    # the conversation is handed to the queue: the ticket, the position, the wait
    handoff = localizer.gettext("en", handoff_texts.TICKET_OPENED).split("{")[0].strip()
    expect(chat.last_answer()).to_contain_text(handoff)

    # an agent takes it through the agent API; the reply arrives live, with the name
    conversation = chat.stored()["id"]
    wait_for_stream(app, conversation)
    agent_replies(app, "Hi, this is Anna from XOOBAY. I'll take it from here.")
    agent = chat.log.locator("li.from-agent").last
    expect(agent.locator(".text")).to_have_text(
        "Hi, this is Anna from XOOBAY. I'll take it from here."
    )
    expect(agent.locator(".sender")).to_have_text("Anna")

    # markup is shown as text, never run
    chat.say('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>')
    app.agent_says(conversation, "<img src=x onerror=window.pwned=3><b>bold</b>", name="<i>Eve</i>")
    expect(chat.log.locator("li.from-agent").last.locator(".sender")).to_have_text("<i>Eve</i>")
    customer = chat.log.locator("li.from-customer").last.locator(".text")
    expect(customer).to_have_text(
        '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    )
    assert page.evaluate("window.pwned") is None
    assert chat.log.locator("img, script, b, i").count() == 0

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-conversation.png"))

    # Escape closes the dialog and gives the focus back to the bubble
    chat.input.press("Escape")
    expect(chat.dialog).to_be_hidden()
    expect(chat.bubble).to_be_focused()

    # closed, it still listens: the bubble shows an agent's new message is waiting
    app.agent_says(conversation, "Are you still there?")
    expect(chat.bubble).to_have_class(re.compile(r"\bunread\b"))
    chat.bubble.click()
    expect(chat.log.locator("li.from-agent .text").last).to_have_text("Are you still there?")
    expect(chat.bubble).not_to_have_class(re.compile(r"\bunread\b"))


def agent_replies(app: LiveApp, text: str) -> None:
    """Anna logs in to the agent API, takes the next ticket and answers it."""
    app.run(app.bot.agents.add("anna", "Anna", "correct horse battery", ["en", "de", "ru"]))
    with httpx.Client(base_url=f"{app.url}/api/v1/agent", timeout=30) as agent:
        login = agent.post("/login", json={"login": "anna", "password": "correct horse battery"})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        ticket = agent.post("/tickets/next", headers=auth).json()
        sent = agent.post(f"/tickets/{ticket['id']}/messages", headers=auth, json={"text": text})
        assert sent.status_code == 204, sent.text


def test_the_conversation_survives_a_reload(app_on: LiveApp, page: Page, parts) -> None:  # type: ignore[no-untyped-def]
    app = app_on
    localizer = parts[0]
    chat = Chat(page, localizer)
    page.goto(f"{app.url}/demo")
    chat.bubble.click()
    chat.say("what are your service hours?")
    chat.say("Wie kann ich den Support per E-Mail erreichen?")
    before = chat.stored()

    page.reload()
    expect(chat.dialog).to_be_visible()  # it was open: it opens again
    texts_shown = chat.log.locator(".text")
    expect(texts_shown.filter(has_text="what are your service hours?")).to_have_count(1)
    expect(texts_shown.filter(has_text="Wie kann ich den Support")).to_have_count(1)
    expect(chat.last_answer()).to_have_attribute("lang", "de")
    expect(chat.dialog.get_by_role("combobox")).to_have_value("de")
    assert chat.stored()["id"] == before["id"]
    count = chat.bot_messages().count()

    # the reloaded page listens again: an agent's message still arrives live
    wait_for_stream(app, before["id"])
    app.agent_says(before["id"], "Anna here, after your reload.")
    expect(chat.log.locator("li.from-agent .text")).to_have_text("Anna here, after your reload.")
    assert chat.bot_messages().count() == count


def test_a_dropped_connection_is_survived_and_the_gap_filled(
    app: LiveApp, page: Page, parts
) -> None:  # type: ignore[no-untyped-def]
    localizer = parts[0]
    chat = Chat(page, localizer)
    page.goto(f"{app.url}/demo")
    chat.bubble.click()
    chat.say("Hello")
    saved = chat.stored()
    wait_for_stream(app, saved["id"])

    # the connection drops and, for a while, cannot be opened again
    page.route(re.compile(r".*/events$"), lambda route: route.abort())
    app.drop_connections()
    expect(chat.dialog.get_by_role("status").first).to_have_text(
        localizer.gettext("en", texts.WIDGET_RECONNECTING)
    )
    # meanwhile the conversation goes on elsewhere (another tab of the customer)
    with httpx.Client(base_url=app.url, timeout=30) as client:
        response = client.post(
            f"/api/v1/conversations/{saved['id']}/messages",
            headers={"Authorization": f"Bearer {saved['token']}"},
            json={"text": "what are your service hours?"},
        )
    assert response.status_code == 200
    page.unroute(re.compile(r".*/events$"))

    # back online: the missed messages appear without a reload, once
    hours = localizer.gettext("en", policy_texts.FAQ_SERVICE_HOURS)
    expect(chat.log.locator(".text").filter(has_text=hours)).to_have_count(1, timeout=30_000)
    expect(chat.log.locator(".text").filter(has_text=re.compile(r"^Hello$"))).to_have_count(1)
    expect(chat.dialog.get_by_role("status").first).to_be_hidden()
    wait_for_stream(app, saved["id"])
    app.agent_says(saved["id"], "Still here after the outage.")
    expect(chat.log.locator("li.from-agent .text")).to_have_text("Still here after the outage.")


def test_a_message_answered_with_a_bad_gateway_is_sent_again_and_stored_once(
    app: LiveApp, page: Page, parts
) -> None:  # type: ignore[no-untyped-def]
    """As when the process that stored a message dies before answering: the load balancer
    says 502 and the widget sends it again, with the same client_message_id."""
    localizer = parts[0]
    chat = Chat(page, localizer)
    page.goto(f"{app.url}/demo")
    chat.bubble.click()
    chat.say("Hello")
    posted: list[str] = []

    def lost_answer(route: Any) -> None:
        if route.request.method != "POST":  # the widget's sync of the transcript (a GET)
            route.continue_()
            return
        posted.append(route.request.post_data or "")
        if len(posted) == 1:
            route.fetch()  # the bot gets it and stores it; its answer never arrives
            route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
        else:
            route.continue_()

    page.route(re.compile(r".*/messages$"), lost_answer)
    chat.say("What is the support email?")
    email = localizer.gettext("en", policy_texts.FAQ_CONTACT_EMAIL)
    expect(chat.log.locator(".text").filter(has_text=email)).to_have_count(1)
    expect(chat.dialog.get_by_role("status").first).to_be_hidden()
    assert len(posted) == 2
    assert json.loads(posted[0])["client_message_id"] == json.loads(posted[1])["client_message_id"]
    saved = chat.stored()
    transcript = httpx.get(
        f"{app.url}/api/v1/conversations/{saved['id']}/messages",
        headers={"Authorization": f"Bearer {saved['token']}"},
        timeout=30,
    ).json()["messages"]
    asked = [m for m in transcript if m["text"] == "What is the support email?"]
    assert len(asked) == 1


@pytest.fixture
def strict_app(settings: Settings, parts) -> Iterator[LiveApp]:  # type: ignore[no-untyped-def]
    with live_app(replace(settings, max_message_length=40), parts) as served:
        yield served


def test_a_refused_message_is_explained_in_the_customers_language(
    strict_app: LiveApp, page: Page, parts
) -> None:  # type: ignore[no-untyped-def]
    localizer = parts[0]
    chat = Chat(page, localizer)
    page.goto(f"{strict_app.url}/demo")
    chat.bubble.click()
    chat.say("Guten Tag")
    chat.input.fill("Wie lange dauert die Antwort auf eine E-Mail an den Support?")
    chat.input.press("Enter")
    too_long = localizer.gettext("de", texts.ERROR_TOO_LONG).format(limit=40)
    expect(chat.dialog.get_by_role("status")).to_have_text(too_long)
    chat.say("Wann sind Sie erreichbar?")  # a shorter one goes through
    expect(chat.dialog.get_by_role("status")).to_be_hidden()


@contextmanager
def shop_and_bot(settings: Settings, parts: Any, allowed: bool, extra: str = "") -> Iterator[Any]:
    """A shop page on its own loopback origin embedding the bot's widget, and the bot.

    The shop's server starts first: the bot must know its origin to allow it.
    """
    page_html: dict[str, str] = {}

    class Shop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page_html["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shop = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        origins = (shop,) if allowed else ()
        with live_app(replace(settings, webchat_allowed_origins=origins), parts) as bot:
            page_html["html"] = (
                "<!doctype html><html lang='en'><head><title>Another shop</title></head><body>"
                "<h1>Another shop</h1>"
                f"<script src='{bot.url}/static/widget.js' defer {extra}></script></body></html>"
            )
            yield shop, bot
    finally:
        server.shutdown()
        server.server_close()


IDENTITY_SECRET = "widget-test-secret"
_EXPIRES = int(time.time()) + 3600
IDENTITY = {
    "customer_id": "C-1001",
    "expires": _EXPIRES,
    "signature": sign_identity("C-1001", _EXPIRES, IDENTITY_SECRET),
}
FORGED = {**IDENTITY, "signature": "ab" * 32}


# Requested before ``page``, these stop after it: its screenshot first, then the servers.
@pytest.fixture
def allowed_shop(settings: Settings, parts) -> Iterator[tuple[str, LiveApp]]:  # type: ignore[no-untyped-def]
    with shop_and_bot(settings, parts, allowed=True) as served:
        yield served


@pytest.fixture
def other_shop(settings: Settings, parts) -> Iterator[tuple[str, LiveApp]]:  # type: ignore[no-untyped-def]
    with shop_and_bot(settings, parts, allowed=False) as served:
        yield served


@pytest.fixture
def identity_shop(settings: Settings, parts) -> Iterator[tuple[str, LiveApp]]:  # type: ignore[no-untyped-def]
    extra = "data-identity='" + json.dumps(IDENTITY) + "'"
    signed = replace(settings, webchat_identity_secret=IDENTITY_SECRET)
    with shop_and_bot(signed, parts, allowed=True, extra=extra) as served:
        yield served


@pytest.fixture
def forged_identity_shop(settings: Settings, parts) -> Iterator[tuple[str, LiveApp]]:  # type: ignore[no-untyped-def]
    extra = "data-identity='" + json.dumps(FORGED) + "'"
    signed = replace(settings, webchat_identity_secret=IDENTITY_SECRET)
    with shop_and_bot(signed, parts, allowed=True, extra=extra) as served:
        yield served


def test_a_page_of_an_allowed_origin_embeds_the_widget(
    allowed_shop: tuple[str, LiveApp], page: Page, parts
) -> None:  # type: ignore[no-untyped-def]
    shop, bot = allowed_shop
    localizer = parts[0]
    chat = Chat(page, localizer)
    page.goto(shop)
    chat.bubble.click()
    chat.say("what are your service hours?")
    expect(chat.last_answer()).to_have_text(localizer.gettext("en", policy_texts.FAQ_SERVICE_HOURS))
    conversation = chat.stored()["id"]
    wait_for_stream(bot, conversation)  # the stream's preflight passed too
    bot.agent_says(conversation, "Anna, answering across origins.")
    expect(chat.log.locator("li.from-agent .text")).to_have_text("Anna, answering across origins.")


def test_a_page_of_an_origin_not_allowed_is_refused(
    other_shop: tuple[str, LiveApp], page: Page
) -> None:
    shop, bot = other_shop
    with page.expect_console_message(lambda m: "cannot be used from this page" in m.text):
        page.goto(shop)
    expect(page.locator("#xoobay-chat")).to_have_count(0)  # no widget drawn
    refused = page.evaluate(
        """async (api) => {
        try { await fetch(api + '/api/v1/conversations', {method: 'POST'}); return 'read'; }
        catch (error) { return error.name; }
    }""",
        bot.url,
    )
    assert refused == "TypeError"  # the browser may not read the answer
    response = httpx.post(f"{bot.url}/api/v1/conversations", headers={"Origin": shop})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in response.headers


def test_the_widget_passes_the_pages_signed_identity(
    identity_shop: tuple[str, LiveApp], page: Page, parts
) -> None:  # type: ignore[no-untyped-def]
    shop, _ = identity_shop
    chat = Chat(page, parts[0])
    page.goto(shop)
    with page.expect_request(
        lambda r: r.url.endswith("/api/v1/conversations") and r.method == "POST"
    ) as created:
        chat.bubble.click()
    assert created.value.post_data_json["identity"] == IDENTITY
    expect(chat.dialog.get_by_role("status")).to_be_hidden()  # accepted: nothing to say


def test_a_refused_identity_is_said_and_the_chat_goes_on_anonymously(
    forged_identity_shop: tuple[str, LiveApp], page: Page, parts
) -> None:  # type: ignore[no-untyped-def]
    shop, _ = forged_identity_shop
    localizer = parts[0]
    bodies: list[dict[str, Any]] = []
    statuses: list[int] = []

    def record(response: Any) -> None:
        request = response.request
        if request.url.endswith("/api/v1/conversations") and request.method == "POST":
            bodies.append(request.post_data_json or {})
            statuses.append(response.status)

    page.on("response", record)
    chat = Chat(page, localizer)
    page.goto(shop)
    chat.bubble.click()
    expect(chat.dialog.get_by_role("status")).to_have_text(
        localizer.gettext("en", texts.WIDGET_IDENTITY_REJECTED)
    )
    chat.say("what are your service hours?")
    expect(chat.last_answer()).to_have_text(localizer.gettext("en", policy_texts.FAQ_SERVICE_HOURS))
    assert [("identity" in body) for body in bodies] == [True, False]
    assert statuses == [403, 201]  # the bot itself refused the forged signature
