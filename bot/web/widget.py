"""The embeddable chat widget: its static files, its translated labels, a demo shop page.

A shop embeds the chat with one tag,
``<script src="https://bot.example/static/widget.js" defer></script>``; the script
loads ``widget.css`` beside it and asks ``GET /api/v1/widget/strings`` for its labels
in the customer's language, so every text it shows comes from the gettext catalogs.
``GET /demo`` (and ``/``) is a shop page that embeds it that way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from bot import texts
from bot.i18n import Localizer
from bot.language import normalize_tag
from bot.web.schemas import LanguageOut, WidgetStrings

STATIC_DIR = Path(__file__).resolve().parent / "static"

#: The widget's label keys and their messages.
STRINGS: Mapping[str, str] = {
    "title": texts.WIDGET_TITLE,
    "open": texts.WIDGET_OPEN,
    "close": texts.WIDGET_CLOSE,
    "language": texts.WIDGET_LANGUAGE,
    "messages": texts.WIDGET_MESSAGES,
    "placeholder": texts.WIDGET_PLACEHOLDER,
    "send": texts.WIDGET_SEND,
    "typing": texts.WIDGET_TYPING,
    "suggestions": texts.WIDGET_SUGGESTIONS,
    "you": texts.WIDGET_YOU,
    "bot": texts.WIDGET_BOT,
    "agent": texts.WIDGET_AGENT,
    "reconnecting": texts.WIDGET_RECONNECTING,
    "send_failed": texts.WIDGET_SEND_FAILED,
    "identity_rejected": texts.WIDGET_IDENTITY_REJECTED,
    "welcome": texts.GREETING,
}


def widget_strings(localizer: Localizer, lang: str | None) -> WidgetStrings:
    """The labels in the supported language nearest ``lang`` (English when none is)."""
    language = normalize_tag(lang) or "en"
    if language not in localizer.languages:
        language = "en"
    return WidgetStrings(
        language=language,
        strings={key: localizer.gettext(language, message) for key, message in STRINGS.items()},
        languages=[
            LanguageOut(tag=tag, name=localizer.locale(tag).display_name or tag)
            for tag in localizer.languages
        ],
    )


def widget_router(localizer: Localizer) -> APIRouter:
    """Build the widget's API route and the demo page."""
    api = APIRouter()

    @api.get("/api/v1/widget/strings", tags=["web chat"], response_model=WidgetStrings)
    async def strings(
        lang: Annotated[str | None, Query(max_length=35, description="A BCP-47 tag.")] = None,
    ) -> WidgetStrings:
        """The widget's labels in a language, and the languages to pick from (own names)."""
        return widget_strings(localizer, lang)

    @api.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        """Send visitors to the demo shop."""
        return RedirectResponse("/demo")

    @api.get("/demo", include_in_schema=False)
    async def demo() -> FileResponse:
        """A demo shop page with the widget embedded by one script tag."""
        return FileResponse(STATIC_DIR / "demo.html", media_type="text/html")

    return api


def install_widget(app: FastAPI, localizer: Localizer) -> None:
    """Serve the widget's files under ``/static`` and its routes."""
    app.include_router(widget_router(localizer))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
