"""The conversation-level language choice: hints, explicit switches, context."""

from __future__ import annotations

import pytest

from bot.langid import Detection, LanguageDetector
from bot.language import LanguageChoice, choose_language, explicit_switch, normalize_tag


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("de-AT", "de"),
        ("de_DE", "de"),
        ("de_DE.UTF-8", "de"),
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("ko", "ko"),
        ("ko-KR", "ko"),
        ("zh", "zh-Hans"),
        ("zh-hans", "zh-Hans"),
        ("zh-hant", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh-Hans-HK", "zh-Hans"),
        ("ZH-tw", "zh-Hant"),
        ("fr", None),
        ("ja-JP", None),
        ("und", None),
        ("xx-YY", None),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_normalize_tag(hint: str | None, expected: str | None) -> None:
    assert normalize_tag(hint) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("English please", "en"),
        ("English, please!", "en"),
        ("in English", "en"),
        ("speak English", "en"),
        ("Can you speak English?", "en"),
        ("Reply in English please", "en"),
        ("Englisch bitte", "en"),
        ("auf Deutsch", "de"),
        ("Deutsch bitte", "de"),
        ("Sprechen Sie Deutsch?", "de"),
        ("switch to German", "de"),
        ("по-русски", "ru"),
        ("на русском", "ru"),
        ("На русском языке, пожалуйста", "ru"),
        ("Говорите по-русски", "ru"),
        ("Russian please", "ru"),
        ("한국어로", "ko"),
        ("한국어", "ko"),
        ("한국어로 해주세요", "ko"),
        ("Korean please", "ko"),
        ("영어로 말해 주세요", "en"),
        ("中文", "zh-Hans"),
        ("简体中文", "zh-Hans"),
        ("请用中文", "zh-Hans"),
        ("繁體中文", "zh-Hant"),
        ("用繁体", "zh-Hant"),
        ("請用繁體中文", "zh-Hant"),
        ("請用中文", "zh-Hant"),
        ("Chinese please", "zh-Hans"),
        ("traditional chinese", "zh-Hant"),
        ("Simplified Chinese", "zh-Hans"),
    ],
)
def test_explicit_switch(text: str, expected: str) -> None:
    assert explicit_switch(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "do you support German?",
        "I speak German and English",
        "Is there a Russian version of the site?",
        "English is not my first language, sorry",
        "german shipping",
        "Hallo, ich brauche Hilfe",
        "我想知道中文客服的时间",
        "Where is my order?",
        "",
        "English please " * 10,
    ],
)
def test_no_explicit_switch(text: str) -> None:
    assert explicit_switch(text) is None


@pytest.mark.parametrize(
    ("text", "current", "hint", "language", "switched"),
    [
        # explicit switches win, over any context
        ("English please", "de", None, "en", True),
        ("по-русски", "en", "de", "ru", True),
        ("Chinese please", "zh-Hant", None, "zh-Hant", False),
        ("Chinese please", None, "zh-TW", "zh-Hant", True),
        # no signal keeps the conversation, else the hint, else English
        ("ORD2024001234", "de", None, "de", False),
        ("ok", "ru", "en", "ru", False),
        ("👍", None, "ko-KR", "ko", True),
        ("12345", None, None, "en", True),
        # the hint is a prior for weak evidence, never a verdict over strong evidence
        ("Здравствуйте, мне нужна помощь", None, "ko-KR", "ru", True),
        ("Name", None, "de-DE", "de", True),
        ("Hello", None, None, "en", True),
        ("Guten Tag, ich habe eine Frage", None, "en-US", "de", True),
        # weak Latin evidence does not flip an established conversation; strong does
        ("Hallo", "en", None, "en", False),
        ("Name", "de", None, "de", False),
        ("Thank you", "de", None, "de", False),
        ("Hallo, ich brauche Hilfe", "en", None, "de", True),
        ("hi, I need help", "de", None, "en", True),
        ("спасибо", "en", None, "ru", True),
        ("주문 상태를 알려주세요", "zh-Hant", None, "ko", True),
        # Simplified and Traditional: the characters decide, when they can
        ("謝謝", "zh-Hans", None, "zh-Hant", True),
        ("谢谢", "zh-Hant", None, "zh-Hans", True),
        ("你好", "zh-Hant", None, "zh-Hant", False),
        ("你好", "zh-Hans", "zh-TW", "zh-Hans", False),
        ("你好", None, "zh-HK", "zh-Hant", True),
        ("你好", None, None, "zh-Hans", True),
        ("你好", "en", "zh-Hant", "zh-Hant", True),
    ],
)
def test_choose_language(
    detector: LanguageDetector,
    text: str,
    current: str | None,
    hint: str | None,
    language: str,
    switched: bool,
) -> None:
    choice = choose_language(detector.detect(text), text, current, hint)
    assert (choice.language, choice.switched) == (language, switched)
    assert choice.explicit is (explicit_switch(text) is not None)
    assert choice.unsupported is None


@pytest.mark.parametrize(
    ("current", "hint", "language"),
    [("de", None, "de"), ("zh-Hant", "en", "zh-Hant"), (None, "ko", "ko"), (None, None, "en")],
)
def test_unsupported_language_keeps_the_conversation(
    detector: LanguageDetector, current: str | None, hint: str | None, language: str
) -> None:
    text = "Bonjour, je voudrais savoir où se trouve ma commande s'il vous plaît"
    choice = choose_language(detector.detect(text), text, current, hint)
    assert choice == LanguageChoice(language, language != current, False, "fr")


def test_weak_evidence_follows_a_confident_detection_without_context() -> None:
    weak = Detection("en", None, 0.99, False)
    assert choose_language(weak, "Hello", None, "de").language == "en"
    unsure = Detection("en", None, 0.6, False)
    assert choose_language(unsure, "Name", None, "de").language == "de"


@pytest.mark.parametrize(
    ("sentences", "current", "language", "rest"),
    [
        (["Please answer in Russian.", "Where is my order?"], "en", "ru", "Where is my order?"),
        (["Hi.", "Auf Deutsch bitte!", "Wo ist mein Paket?"], None, "de", "Hi. Wo ist mein Paket?"),
        (["请用中文。", "客服热线是多少？"], "zh-Hant", "zh-Hant", "客服热线是多少？"),
        (["请用中文。", "客服热线是多少？"], "en", "zh-Hans", "客服热线是多少？"),
        (["請用中文。", "熱線？"], "en", "zh-Hant", "熱線？"),
    ],
)
def test_a_sentence_asks_for_the_language_and_the_rest_is_answered_in_it(
    detector: LanguageDetector,
    sentences: list[str],
    current: str | None,
    language: str,
    rest: str,
) -> None:
    text = " ".join(sentences)
    choice = choose_language(detector.detect(text), text, current, None, sentences)
    assert (choice.language, choice.explicit, choice.rest) == (language, True, rest)


def test_a_message_that_only_asks_for_a_language_leaves_no_rest(
    detector: LanguageDetector,
) -> None:
    choice = choose_language(detector.detect("English please"), "English please", "de", None)
    assert (choice.language, choice.explicit, choice.rest) == ("en", True, None)
    sentences = ["Do you support German customers?", "Where is my order?"]
    text = " ".join(sentences)
    choice = choose_language(detector.detect(text), text, "en", None, sentences)
    assert (choice.language, choice.explicit, choice.rest) == ("en", False, None)
