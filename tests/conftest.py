"""Shared fixtures: a database of each kind, settings, and the built bot.

Storage tests run on SQLite (a temporary file) and on the PostgreSQL server of the test
machine (``TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``),
each test in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from bot.app import Components, build, build_nlu
from bot.config import Settings
from bot.i18n import Localizer
from bot.langid import LanguageDetector
from bot.nlu import NluBackend
from bot.nlu.embedded import EmbeddedNlu
from bot.storage.db import upgrade
from tests.fake_bot_api import FakeBotApi
from tests.service_hours import in_hours_clock

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def nlu_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained model file shared by the whole run (trained on first use)."""
    return tmp_path_factory.mktemp("nlu") / "model.npz"


def _postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search path is a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _postgres_schema_url(schema)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def settings(sqlite_url: str, nlu_model_path: Path) -> Settings:
    """Settings of a bot on SQLite, with the shared NLU model file."""
    return replace(Settings.from_env({}), database_url=sqlite_url, nlu_model_path=nlu_model_path)


@pytest.fixture(scope="session")
def parts(
    nlu_model_path: Path,
) -> tuple[Localizer, LanguageDetector, tuple[NluBackend, EmbeddedNlu]]:
    """The read-only parts of a bot, built once for the whole run."""
    base = replace(Settings.from_env({}), nlu_model_path=nlu_model_path)
    return Localizer(base.locales_dir), LanguageDetector(), build_nlu(base)


async def build_bot(
    settings: Settings,
    parts: tuple[Localizer, LanguageDetector, tuple[NluBackend, EmbeddedNlu]],
) -> Components:
    """The bot for ``settings`` on the shared read-only ``parts``, its database migrated."""
    upgrade(settings.database_url)
    localizer, detector, nlu = parts
    return build(settings, localizer=localizer, detector=detector, nlu=nlu, clock=in_hours_clock)


@pytest.fixture
async def bot_on(database_url: str, settings: Settings, parts) -> AsyncIterator[Components]:  # type: ignore[no-untyped-def]
    """The bot, built on each kind of database, migrated."""
    built = await build_bot(replace(settings, database_url=database_url), parts)
    yield built
    await built.close()


@pytest.fixture
async def bot(settings: Settings, parts) -> AsyncIterator[Components]:  # type: ignore[no-untyped-def]
    """The bot on SQLite, migrated."""
    built = await build_bot(settings, parts)
    yield built
    await built.close()


@contextmanager
def serving(settings: Settings, parts, *, migrate: bool = True) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve the web app for ``settings`` over real HTTP (uvicorn, free loopback port)."""
    import threading
    import time

    import uvicorn

    from bot.web.http import PROTOCOLS
    from bot.web.server import create_web_app

    if migrate:
        upgrade(settings.database_url)
    localizer, detector, nlu = parts
    built = build(settings, localizer=localizer, detector=detector, nlu=nlu, clock=in_hours_clock)
    app = create_web_app(built)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **PROTOCOLS)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = running.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    """The local fake of the Telegram Bot API, served over HTTP for the test."""
    api = FakeBotApi()
    api.start()
    yield api
    api.stop()


@pytest.fixture
def server(settings: Settings, parts) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The web app served over real HTTP by uvicorn on a free loopback port."""
    with serving(settings, parts) as url:
        yield url


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def chromium() -> Iterator[object]:
    """The real headless Chromium of the machine (Debian's), driven by Playwright.

    Function-scoped on purpose: Playwright's sync API keeps an event loop running in the
    test thread while it is open, which would break the asyncio tests that follow.
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser page; a screenshot of it is kept in ``test-artifacts/``."""
    context = chromium.new_context(locale="en-US", timezone_id="Asia/Hong_Kong")
    browser_page = context.new_page()
    browser_page.set_default_timeout(15_000)
    try:
        yield browser_page
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        try:
            browser_page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        finally:
            context.close()
