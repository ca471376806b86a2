"""Every customer-facing text is in every catalog, translated, with the same placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import CATALOGS, Localizer, placeholders

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"


def code_messages() -> set[str]:
    found = extract_from_dir(
        str(ROOT / "bot"),
        method_map=[("**.py", "python")],
        keywords={"N_": None},
    )
    return {str(message) for _, _, message, _, _ in found}


def catalog(folder: str) -> Catalog:
    with (LOCALES / folder / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def test_the_code_has_messages() -> None:
    assert len(code_messages()) > 30


def test_the_template_matches_the_code() -> None:
    with (LOCALES / "messages.pot").open("rb") as pot:
        template = {str(m.id) for m in read_po(pot) if m.id}
    assert template == code_messages(), "run `make extract` and translate the new messages"


@pytest.mark.parametrize("folder", sorted(CATALOGS.values()))
def test_every_message_is_translated(folder: str) -> None:
    messages = {str(m.id): m for m in catalog(folder) if m.id}
    missing = code_messages() - set(messages)
    assert not missing, f"{folder}: not in the catalog: {sorted(missing)[:3]}"
    untranslated = [i for i, m in messages.items() if not m.string or m.fuzzy]
    assert not untranslated, f"{folder}: untranslated or fuzzy: {untranslated[:3]}"
    stale = set(messages) - code_messages()
    assert not stale, f"{folder}: no longer in the code: {sorted(stale)[:3]}"


@pytest.mark.parametrize("folder", sorted(CATALOGS.values()))
def test_placeholders_match(folder: str) -> None:
    for message in catalog(folder):
        if message.id:
            assert placeholders(str(message.string)) == placeholders(str(message.id)), (
                f"{folder}: {message.id!r}"
            )


@pytest.mark.parametrize("folder", sorted(set(CATALOGS.values()) - {"en"}))
def test_translations_are_not_english_copies(folder: str) -> None:
    copies = [m.id for m in catalog(folder) if m.id and m.string == m.id and len(str(m.id)) > 20]
    assert not copies, f"{folder}: copied from English: {copies[:3]}"


def test_the_figures_of_the_policy_survive_translation() -> None:
    figures = ("help@xoobay.com", "+852 9195 0500", "08:00", "24:00")
    for folder in CATALOGS.values():
        for message in catalog(folder):
            for figure in figures:
                if figure in str(message.id):
                    assert figure in str(message.string), f"{folder}: {figure} in {message.id!r}"


def test_the_localizer_renders_each_language() -> None:
    localizer = Localizer(LOCALES)
    assert localizer.languages == ("en", "zh-Hans", "zh-Hant", "ru", "de", "ko")
    names = localizer.language_names()
    for name in ("English", "русский", "Deutsch", "한국어", "中文"):
        assert name in names
    assert localizer.gettext("de", "Talk to a person") != "Talk to a person"
