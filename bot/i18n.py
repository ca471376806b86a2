"""Localized rendering: one ``Translations`` per locale, chosen per reply.

Never ``gettext.install``: a process serves every language at once. Replies are
rendered last, in the customer's language (BCP-47 tag, e.g. ``zh-Hant``), and
dates, times and numbers are formatted by Babel for that locale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, localedata
from babel.dates import format_date, format_time, get_timezone_gmt, get_timezone_name
from babel.numbers import format_currency
from babel.support import Translations

from bot import texts
from bot.core import LanguageList, Money, Reply

#: BCP-47 tag → gettext catalog directory name.
CATALOGS: Mapping[str, str] = {
    "en": "en",
    "zh-Hans": "zh_Hans",
    "zh-Hant": "zh_Hant",
    "ru": "ru",
    "de": "de",
    "ko": "ko",
}
DOMAIN = "messages"
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
SERVICE_OPENS = time(8, 0)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Sections of Babel's locale data that nothing the bot calls reads: units (but
#: :data:`KEPT_UNITS`), compact and interval formats, date skeletons, relative-date words,
#: variant names. Babel loads a locale whole (its parents merged in) and keeps it for the
#: life of the process; these are about half of it. Dropped as each locale loads, they
#: were never resident: the six locales took 8.4 MiB of Python objects in a serving
#: process (tracemalloc, 2026-12-07).
UNUSED_LOCALE_DATA = frozenset(
    {
        "compact_currency_formats",
        "compact_decimal_formats",
        "compound_unit_patterns",
        "currency_unit_patterns",
        "date_fields",
        "datetime_skeletons",
        "interval_formats",
        "unit_display_names",
        "variants",
    }
)
#: The units whose patterns stay (``unit_patterns``, of 238): a ticket's expected wait.
KEPT_UNITS = frozenset({"duration-minute", "duration-hour"})


def compile_catalogs(locales_dir: Path) -> list[Path]:
    """Compile every ``.po`` whose ``.mo`` is missing or older; return those written."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        # imported only for a stale catalog: `make install` compiles them, and a serving
        # process would otherwise hold babel.messages and difflib for nothing (0.4 MiB)
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


def lean_locale_data(name: str) -> None:
    """Load locale ``name``'s data without ``UNUSED_LOCALE_DATA``, units but ``KEPT_UNITS``.

    ``localedata.load`` caches each locale's dictionary and returns that same one to
    every later call (Babel documents it), so what is removed here is gone for the
    process. A locale's data starts as a copy of its parent's: root and the prefixes of
    the name (``zh`` of ``zh_Hans``) are loaded and pruned first, so no copy brings the
    sections back.
    """
    parts = name.split("_")
    for each in ["root", *("_".join(parts[:end]) for end in range(1, len(parts) + 1))]:
        data = localedata.load(each)
        for section in UNUSED_LOCALE_DATA & data.keys():
            del data[section]
        units = data.get("unit_patterns", {})
        for unit in units.keys() - KEPT_UNITS:
            del units[unit]


def placeholders(message: str) -> set[str]:
    """Return the ``{name}`` placeholders of a message."""
    return set(_PLACEHOLDER.findall(message))


class Localizer:
    """Renders replies and formats values for each supported language."""

    def __init__(self, locales_dir: Path, languages: Iterable[str] = CATALOGS) -> None:
        """Load (compiling when stale) one catalog per language.

        Raises:
            FileNotFoundError: A language has no catalog in ``locales_dir``.
        """
        compile_catalogs(locales_dir)
        self._translations: dict[str, Translations] = {}
        self._locales: dict[str, Locale] = {}
        self._language_names: str | None = None
        for tag in languages:
            folder = CATALOGS[tag]
            mo_path = locales_dir / folder / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if not mo_path.exists():
                raise FileNotFoundError(f"no compiled catalog for {tag}: {mo_path}")
            with mo_path.open("rb") as mo_file:
                self._translations[tag] = Translations(mo_file, domain=DOMAIN)
            self._locales[tag] = Locale.parse(folder)
            lean_locale_data(folder)

    @property
    def languages(self) -> tuple[str, ...]:
        """The supported tags, in catalog order."""
        return tuple(self._translations)

    def locale(self, language: str) -> Locale:
        """Return Babel's locale for a supported tag (English for anything else)."""
        return self._locales.get(language, self._locales["en"])

    def gettext(self, language: str, message: str) -> str:
        """Translate one message id into ``language``."""
        translations = self._translations.get(language, self._translations["en"])
        return translations.gettext(message)

    def render(self, language: str, reply: Reply) -> str:
        """Translate a reply and fill in its parameters (see :class:`Reply`)."""
        text = self.gettext(language, reply.message)
        if not reply.params:
            return text
        return text.format(**{k: self._value(language, v) for k, v in reply.params.items()})

    def _value(self, language: str, value: object) -> object:
        """Format one parameter: nested replies, dates and amounts for ``language``."""
        if isinstance(value, Reply):
            return self.render(language, value)
        if isinstance(value, LanguageList):
            return self.language_names()
        if isinstance(value, Money):
            return format_currency(value.amount, value.currency, locale=self.locale(language))
        if isinstance(value, date):
            day = value.date() if isinstance(value, datetime) else value
            return format_date(day, format="medium", locale=self.locale(language))
        return value

    def language_names(self) -> str:
        """List the supported languages, each by its own name (``English, 中文 (简体), …``)."""
        if self._language_names is None:  # built once, from the data loaded at start
            names = (self._locales[tag].display_name or tag for tag in self._translations)
            self._language_names = ", ".join(names)
        return self._language_names

    def service_hours_local(self, language: str, timezone: str, on: datetime) -> Reply | None:
        """Return the 08:00-24:00 Hong Kong service hours in the customer's zone.

        ``on`` picks the day (time zones shift with daylight saving). ``None`` when the
        zone is unknown or is Hong Kong's own offset.
        """
        try:
            zone = ZoneInfo(timezone)
        except (KeyError, ValueError):  # ZoneInfoNotFoundError subclasses KeyError
            return None
        day = on.astimezone(HONG_KONG).date()
        opens = datetime.combine(day, SERVICE_OPENS, HONG_KONG).astimezone(zone)
        closes = datetime.combine(day, time(0), HONG_KONG).astimezone(zone)
        if opens.utcoffset() == on.astimezone(HONG_KONG).utcoffset():
            return None
        locale = self.locale(language)
        return Reply(
            texts.HOURS_LOCAL,
            {
                "zone": _zone_name(zone, opens, locale),
                "start": format_time(opens, format="short", locale=locale),
                "end": format_time(closes, format="short", locale=locale),
            },
        )


def _zone_name(zone: ZoneInfo, when: datetime, locale: Locale) -> str:
    """The zone's name in ``locale``; its GMT offset for zones without a region (UTC)."""
    if zone.key == "UTC" or zone.key.startswith("Etc/"):
        return get_timezone_gmt(when, locale=locale)
    return str(get_timezone_name(zone, locale=locale))
