"""Conversations that read like a chat: (customer says, expected intent, action, language)."""

from __future__ import annotations

import pytest

from bot import texts
from bot.app import Components
from bot.core import Channel, Incoming, Outgoing

Line = tuple[str, str | None, str, str]

DIALOGUES: dict[str, list[Line]] = {
    "en": [
        ("Hi there!", "greet", "answer", "en"),
        ("What is your email address?", "faq_contact_email", "answer", "en"),
        ("What's the hotline number?", "faq_hotline", "answer", "en"),
        ("thank you!", "thanks", "answer", "en"),
    ],
    "de": [
        ("Guten Morgen", "greet", "answer", "de"),
        ("Welche Telefonnummer hat die Hotline?", "faq_hotline", "answer", "de"),
        ("Danke schön", "thanks", "answer", "de"),
    ],
    "ru": [
        ("Здравствуйте!", "greet", "answer", "ru"),
        ("Какой у вас адрес электронной почты?", "faq_contact_email", "answer", "ru"),
        ("спасибо", "thanks", "answer", "ru"),
    ],
    "ko": [
        ("안녕하세요", "greet", "answer", "ko"),
        ("고객센터 전화번호가 뭐예요?", "faq_hotline", "answer", "ko"),
        ("감사합니다", "thanks", "answer", "ko"),
    ],
    "zh-Hans": [
        ("你好", "greet", "answer", "zh-Hans"),
        ("你们的客服邮箱是什么？", "faq_contact_email", "answer", "zh-Hans"),
        ("谢谢", "thanks", "answer", "zh-Hans"),
    ],
    "zh-Hant": [
        ("請問客服電郵地址是什麼？", "faq_contact_email", "answer", "zh-Hant"),
        ("你好", "greet", "answer", "zh-Hant"),  # the same in both scripts: stays Traditional
        ("謝謝", "thanks", "answer", "zh-Hant"),
    ],
}


async def chat(
    bot: Components, lines: list[str], hint: str | None = None, timezone: str | None = None
) -> list[list[Outgoing]]:
    info, _ = await bot.store.create_conversation(
        Channel.WEB, language_hint=hint, timezone=timezone
    )
    return [await bot.pipeline.handle(Incoming(info.id, line)) for line in lines]


@pytest.mark.parametrize("language", sorted(DIALOGUES))
async def test_dialogue(bot: Components, language: str) -> None:
    script = DIALOGUES[language]
    answers = await chat(bot, [said for said, *_ in script])
    for (said, intent, action, reply_language), replies in zip(script, answers, strict=True):
        first = replies[0]
        assert (first.intent, first.action.value, first.language) == (
            intent,
            action,
            reply_language,
        ), said
        assert first.text


async def test_figures_are_stated_exactly(bot: Components) -> None:
    answers = await chat(bot, ["What's your email?", "hotline phone number?"])
    assert "help@xoobay.com" in answers[0][0].text
    assert "+852 9195 0500" in answers[1][0].text


async def test_no_signal_keeps_the_language(bot: Components) -> None:
    answers = await chat(bot, ["Guten Tag, ich habe eine Frage", "ORD2024001234", "ok", "👍"])
    assert [a[0].language for a in answers] == ["de", "de", "de", "de"]


async def test_the_hint_is_a_prior_not_a_verdict(bot: Components) -> None:
    answers = await chat(bot, ["ORD2024001234", "Здравствуйте, мне нужна помощь"], hint="ko-KR")
    assert [a[0].language for a in answers] == ["ko", "ru"]


async def test_explicit_switch(bot: Components) -> None:
    answers = await chat(bot, ["Hallo, ich brauche Hilfe", "English please", "ok"])
    assert answers[1][0].language == "en" and "English" in answers[1][0].text
    assert answers[2][0].language == "en"
    russian = await chat(bot, ["Hello", "по-русски"])
    assert russian[1][0].language == "ru" and "русск" in russian[1][0].text


async def test_simplified_and_traditional_are_told_apart(bot: Components) -> None:
    answers = await chat(bot, ["谢谢"])
    assert answers[0][0].language == "zh-Hans"
    answers = await chat(bot, ["謝謝"])
    assert answers[0][0].language == "zh-Hant"
    assert answers[0][0].text != (await chat(bot, ["谢谢"]))[0][0].text


async def test_unsupported_language_gets_english_with_the_languages_by_their_names(
    bot: Components,
) -> None:
    answers = await chat(
        bot, ["Bonjour, je voudrais savoir où se trouve ma commande s'il vous plaît"]
    )
    reply = answers[0][0]
    assert reply.language == "en" and reply.action.value == "clarify"
    for name in ("English", "Deutsch", "русский", "한국어", "中文"):
        assert name in reply.text


async def test_two_misses_in_a_row_hand_over_to_a_person(bot: Components) -> None:
    answers = await chat(bot, ["Hello", "qwzx vbnm plkj", "zzkq xxvw jjqp"])
    assert answers[1][0].action.value == "clarify" and answers[1][0].suggestions
    assert answers[2][0].action.value == "handoff"
    assert answers[2][0].details["ticket"]["position"] == 1


async def test_hours_are_given_in_the_customers_zone_too(bot: Components) -> None:
    answers = await chat(bot, ["When is live chat open?"], timezone="Europe/Berlin")
    text = answers[0][0].text
    assert "08:00" in text and "24:00" in text
    assert "\n" in text  # a second line with the Berlin equivalent


async def test_a_refusal_names_who_can_help(bot: Components) -> None:
    answers = await chat(bot, ["How much import tax will I have to pay?"])
    reply = answers[0][0]
    assert reply.action.value == "refuse" and "tax authority" in reply.text


async def test_the_languages_are_named_only_in_a_reply_that_lists_them(
    bot: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming them loads every locale's data: other messages must not pay for it."""
    named: list[str] = []
    real = bot.localizer.language_names

    def language_names() -> str:
        named.append(real())
        return named[-1]

    monkeypatch.setattr(bot.localizer, "language_names", language_names)
    first = await chat(bot, ["What is your email address?", "thank you!"])
    assert [a[0].intent for a in first] == ["faq_contact_email", "thanks"]
    assert named == []
    (answer,) = await chat(bot, ["Which languages do you speak?"])
    assert answer[0].intent == "faq_languages"
    assert len(named) == 1 and "English" in answer[0].text and "한국어" in answer[0].text


@pytest.mark.parametrize("text", ["?", "!!!", "…", "😡", "🤷‍♀️"])
async def test_punctuation_or_an_unknown_symbol_alone_is_not_understood(
    bot: Components, text: str
) -> None:
    """Before 2026-12-08 "?" asked for an order number, "!!!" opened a ticket for a payment
    anomaly and any emoji the model had not seen was read as a goodbye."""
    [[reply]] = await chat(bot, [text], hint="de")
    assert (reply.intent, reply.action.value, reply.language) == (None, "clarify", "de")


async def test_a_thumbs_up_after_an_answer_is_thanks_in_the_conversations_language(
    bot: Components,
) -> None:
    answers = await chat(bot, ["Welche Telefonnummer hat die Hotline?", "👍"])
    assert [(r.intent, r.language) for [r] in answers] == [("faq_hotline", "de"), ("thanks", "de")]


# Not in nlu_data/. Until 2026-12-08 the bot had no such intents: "네" (yes) got an abuse
# warning (its "-네" ending is in rude examples), "ok" and "yes" a goodbye, "нет" an urgent
# ticket for a missing refund.
YES_AND_NO = [
    ("en", "What's the hotline number?", "ok great", "nope, I'm fine"),
    ("de", "Welche Telefonnummer hat die Hotline?", "ja, gut", "nein, alles gut"),
    ("ru", "Какой номер горячей линии?", "да, понятно", "нет, не нужно"),
    ("zh-Hans", "你们的热线电话是多少？", "好的，知道了", "不需要了"),
    ("zh-Hant", "你們的熱線電話是多少？", "好的，知道了", "不需要了"),
    ("ko", "고객센터 전화번호가 뭐예요?", "네 좋아요", "아니요 괜찮아요"),
]


@pytest.mark.parametrize(("language", "asked", "yes", "no"), YES_AND_NO)
async def test_yes_and_no_after_an_answer_are_acknowledged(
    bot: Components, language: str, asked: str, yes: str, no: str
) -> None:
    answers = await chat(bot, [asked, yes, no, "네"], hint=language)
    assert [(r.intent, r.action.value) for [r] in answers] == [
        ("faq_hotline", "answer"),
        ("affirm", "answer"),
        ("deny", "answer"),
        ("affirm", "answer"),  # never an abuse warning, whatever the conversation's language
    ]
    assert {r.language for [r] in answers[:3]} == {language}
    assert answers[1][0].text == bot.localizer.gettext(language, texts.AFFIRM)
    assert answers[2][0].text == bot.localizer.gettext(language, texts.DENY)
