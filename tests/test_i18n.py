"""Locale-aware formatting: service hours in the customer's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.i18n import Localizer

LOCALES = Path(__file__).resolve().parent.parent / "locales"
WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def localizer() -> Localizer:
    return Localizer(LOCALES)


@pytest.mark.parametrize(
    ("language", "zone", "on", "start", "end"),
    [
        ("de", "Europe/Berlin", WINTER, "01:00", "17:00"),  # HK is UTC+8, Berlin UTC+1
        ("de", "Europe/Berlin", SUMMER, "02:00", "18:00"),  # Berlin on summer time
        ("en", "America/New_York", WINTER, "7:00\u202fPM", "11:00\u202fAM"),
        ("ru", "Europe/Moscow", WINTER, "03:00", "19:00"),
        ("ko", "Asia/Seoul", WINTER, "오전 9:00", "오전 1:00"),  # CLDR 48 (Babel 2.19)
    ],
)
def test_service_hours_in_the_customers_zone(
    localizer: Localizer, language: str, zone: str, on: datetime, start: str, end: str
) -> None:
    reply = localizer.service_hours_local(language, zone, on)
    assert reply is not None
    assert reply.params["start"] == start and reply.params["end"] == end
    text = localizer.render(language, reply)
    assert start in text and end in text


@pytest.mark.parametrize("zone", ["Asia/Hong_Kong", "Asia/Shanghai", "Not/AZone", "", "../etc"])
def test_no_local_hours_for_hong_kong_time_or_unknown_zones(
    localizer: Localizer, zone: str
) -> None:
    assert localizer.service_hours_local("en", zone, WINTER) is None


def test_an_unknown_language_renders_in_english(localizer: Localizer) -> None:
    assert localizer.gettext("fr", "Talk to a person") == "Talk to a person"


def test_hours_in_utc_name_the_offset_not_an_unknown_region(localizer: Localizer) -> None:
    from datetime import UTC, datetime

    local = localizer.service_hours_local("en", "UTC", datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert local is not None
    text = localizer.render("en", local)
    assert "GMT" in text and "Unknown" not in text and "00:00" in text


def test_babel_holds_no_locale_data_the_bot_never_reads(localizer: Localizer) -> None:
    """The unused sections are gone, and what the bot formats still formats.

    Every locale Babel loaded for the bot is checked, root and the parents included.
    """
    from datetime import date
    from decimal import Decimal

    from babel import localedata

    from bot.core import LANGUAGES, Money, Reply
    from bot.handoff.flow import expected_wait
    from bot.i18n import KEPT_UNITS, UNUSED_LOCALE_DATA

    for name in ("root", "zh", "en", "zh_Hans", "zh_Hant", "ru", "de", "ko"):
        data = localedata.load(name)
        assert not UNUSED_LOCALE_DATA & data.keys(), name
        assert data["unit_patterns"].keys() == KEPT_UNITS, name
    waits = {  # a ticket's expected wait: 1, 119, 120 and 365 minutes
        "en": ("1 minute", "119 minutes", "2 hours", "6 hours"),
        "zh-Hans": ("1分钟", "119分钟", "2小时", "6小时"),
        "zh-Hant": ("1 分鐘", "119 分鐘", "2 小時", "6 小時"),
        "ru": ("1 минута", "119 минут", "2 часа", "6 часов"),
        "de": ("1 Minute", "119 Minuten", "2 Stunden", "6 Stunden"),
        "ko": ("1분", "119분", "2시간", "6시간"),
    }
    for language, said in waits.items():
        locale = localizer.locale(language)
        assert tuple(expected_wait(m, locale) for m in (1, 119, 120, 365)) == said, language
    expected = {
        "en": ("HK$1,234.50", "Mar 5, 2026"),
        "zh-Hans": ("HK$1,234.50", "2026年3月5日"),
        "zh-Hant": ("HK$1,234.50", "2026年3月5日"),
        "ru": ("1\u00a0234,50\u00a0HK$", "5 мар. 2026\u202fг."),
        "de": ("1.234,50\u00a0HK$", "05.03.2026"),
        "ko": ("HK$1,234.50", "2026. 3. 5."),
    }
    for language, (amount, day) in expected.items():
        values = {"amount": Money(Decimal("1234.5"), "HKD"), "day": date(2026, 3, 5)}
        reply = Reply("{amount} {day}", values)
        assert localizer.render(language, reply) == f"{amount} {day}"
        hours = localizer.service_hours_local(language, "Europe/Berlin", WINTER)
        assert hours is not None and all(hours.params.values())
    names = localizer.render("en", Reply("{names}", {"names": LANGUAGES}))
    assert names == "English, 中文 (简体), 中文 (繁體), русский, Deutsch, 한국어"
