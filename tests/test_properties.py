"""Property tests: any Unicode text gets a verdict, a reply or a clear error, never a crash."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Components
from bot.core import Channel, Incoming
from bot.errors import InputError
from bot.langid import SUPPORTED, LanguageDetector
from bot.nlu.entities import extract, order_numbers

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=300) | st.text(max_size=300)
DIGITS = st.text("0123456789", min_size=6, max_size=20)
_detector = LanguageDetector()


@given(ANY_TEXT)
@settings(max_examples=300, deadline=None)
def test_detection_of_any_text_is_a_supported_language_or_none(text: str) -> None:
    found = _detector.detect(text)
    assert found.language is None or found.language in SUPPORTED
    assert 0.0 <= found.confidence <= 1.0


@given(ANY_TEXT)
@settings(max_examples=300, deadline=None)
def test_order_numbers_found_anywhere_are_canonical(text: str) -> None:
    for number in order_numbers(text):
        assert re.fullmatch(r"ORD\d{6,20}", number)
    for entity in extract(text):
        assert entity.start < entity.end


@given(DIGITS, st.sampled_from(["{}", "{} ", "{}, thanks"]), st.booleans(), st.booleans())
@settings(max_examples=200, deadline=None)
def test_an_order_number_is_read_however_it_is_written(
    digits: str, frame: str, full_width: bool, spaced: bool
) -> None:
    written = (
        "ord " + " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
        if spaced
        else f"ORD{digits}"
    )
    if full_width:
        written = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in written)
    assert unicodedata.normalize("NFKC", written).upper().replace(" ", "") == f"ORD{digits}"
    assert order_numbers("my order " + frame.format(written)) == [f"ORD{digits}"]


@given(ANY_TEXT)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
async def test_the_pipeline_answers_any_text_or_refuses_it_clearly(
    bot: Components, text: str
) -> None:
    info, _ = await bot.store.create_conversation(Channel.WEB)
    try:
        replies = await bot.pipeline.handle(Incoming(info.id, text))
    except InputError:
        assert not text.strip() or len(text) > bot.pipeline.max_length or not _printable(text)
        return
    assert replies and all(r.text and r.language in SUPPORTED for r in replies)


def _printable(text: str) -> bool:
    return any(unicodedata.category(c)[0] not in "CZ" for c in text)
