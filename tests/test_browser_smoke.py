"""The browser the web page tests drive: real headless Chromium over real HTTP."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser


def test_chromium_fetches_from_the_served_app(server: str, page) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(f"{server}/healthz")
    assert response is not None and response.status == 200
    assert json.loads(page.locator("body").inner_text()) == {"status": "ok"}
