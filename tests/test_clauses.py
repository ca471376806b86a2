"""Messages that say several things: each question answered, a person asked for heard."""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import clauses
from bot.app import Components
from bot.config import ROOT
from bot.core import Action, Channel, Incoming
from bot.nlu import Parse
from bot.nlu.data import load_examples

ENDS = [". ", "! ", "? ", "... ", "。", "！", "？？", "\n", ", ", "，", " "]
SENTENCE = st.text(st.characters(codec="utf-8"), max_size=40)
EXAMPLES = sorted({e.text for e in load_examples(ROOT / "nlu_data")})


def reading(intent: str | None, confidence: float, *ranking: tuple[str, float]) -> Parse:
    top = ((intent, confidence),) if intent is not None else ()
    return Parse(intent, confidence, (*top, *ranking))


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("Where is my order?", ["Where is my order?"]),
        ("Thanks! And when will it arrive?", ["Thanks!", "And when will it arrive?"]),
        ("Hours? Email?\nHotline.", ["Hours?", "Email?", "Hotline."]),
        ("谢谢！另外你们的邮箱是多少？", ["谢谢！", "另外你们的邮箱是多少？"]),
        ("取消的订单怎么还没退钱？？", ["取消的订单怎么还没退钱？？"]),
        ("Wait... what?!", ["Wait...", "what?!"]),
        ("It costs 1.5 EUR. OK", ["It costs 1.5 EUR.", "OK"]),
        ("Hi!!! ... !!", ["Hi!!!"]),
        ("감사합니다. 전화번호가 뭐예요?", ["감사합니다.", "전화번호가 뭐예요?"]),
    ],
)
def test_a_message_splits_into_its_sentences(text: str, pieces: list[str]) -> None:
    assert clauses.clauses(text) == pieces


def test_commas_split_only_when_asked_and_pieces_are_capped() -> None:
    assert clauses.clauses("thanks, and when will it arrive?") == [
        "thanks, and when will it arrive?"
    ]
    assert clauses.clauses("thanks, and when will it arrive?", commas=True) == [
        "thanks,",
        "and when will it arrive?",
    ]
    assert clauses.clauses("謝謝，請問熱線？", commas=True) == ["謝謝，", "請問熱線？"]
    assert len(clauses.clauses("Yes. " * 50)) == clauses.MAX_CLAUSES


def test_small_talk_gives_way_to_the_question_after_it() -> None:
    whole = reading("thanks", 0.93, ("order_status", 0.79))
    combined = clauses.combine(whole, [reading("thanks", 1.0), reading("order_status", 0.6)])
    assert (combined.intent, combined.also) == ("order_status", ())
    assert combined.ranking[0] == ("order_status", 0.6)
    assert clauses.combine(reading(None, 0.3), [reading("faq_hotline", 0.7)]).intent == (
        "faq_hotline"
    )


def test_only_small_talk_stays_small_talk() -> None:
    whole = reading("thanks", 0.99, ("goodbye", 0.73))
    combined = clauses.combine(whole, [reading("thanks", 1.0), reading("goodbye", 1.0)])
    assert combined is whole


def test_a_second_question_is_answered_beside_the_first() -> None:
    whole = reading("faq_service_hours", 0.95, ("faq_contact_email", 0.85))
    parts = [reading("faq_service_hours", 1.0), reading("faq_contact_email", 0.99)]
    combined = clauses.combine(whole, parts)
    assert (combined.intent, combined.also) == ("faq_service_hours", ("faq_contact_email",))


def test_an_unsure_sentence_adds_no_answer_and_asides_are_capped() -> None:
    whole = reading("faq_payment", 0.9)
    unsure = clauses.combine(whole, [reading("faq_payment", 1.0), reading("faq_hotline", 0.79)])
    assert unsure is whole
    many = [reading(i, 0.95) for i in ("faq_hotline", "faq_logistics", "faq_live_chat")]
    assert clauses.combine(whole, many).also == ("faq_hotline", "faq_logistics")


def test_a_weightier_sentence_needs_the_whole_message_to_agree() -> None:
    # "How do I complain? The seller ignores me.": the second sentence alone reads as a
    # complex return, the whole message hardly (0.47): it stays a feedback question.
    whole = reading("faq_feedback", 0.91, ("out_of_scope", 0.74), ("complex_return", 0.47))
    parts = [reading("faq_feedback", 0.99), reading("complex_return", 0.86)]
    assert clauses.combine(whole, parts) is whole
    # "What are your hours? Where is my order?": both readings agree on the order.
    whole = reading("faq_service_hours", 0.9, ("order_status", 0.85))
    parts = [reading("faq_service_hours", 1.0), reading("order_status", 0.9)]
    combined = clauses.combine(whole, parts)
    assert (combined.intent, combined.also) == ("order_status", ("faq_service_hours",))


def test_a_person_asked_for_outweighs_abuse_and_refusals_but_not_urgency() -> None:
    parts = [reading("ask_human", 0.99), reading("abuse", 1.0)]
    assert clauses.combine(reading("abuse", 0.95), parts).intent == "ask_human"
    parts = [reading("refuse_customs", 1.0), reading("ask_human", 0.95)]
    assert clauses.combine(reading("refuse_customs", 0.98), parts).intent == "ask_human"
    parts = [reading("urgent_account_theft", 1.0), reading("ask_human", 0.95)]
    urgent = reading("urgent_account_theft", 0.99)
    assert clauses.combine(urgent, parts) is urgent
    unsure = [reading("abuse", 1.0), reading("ask_human", 0.7)]
    assert clauses.combine(reading("abuse", 0.95), unsure).intent == "abuse"


def test_readings_the_weights_do_not_rank_stay() -> None:
    for intent in ("refuse_tax", "abuse", "out_of_scope", "cancel"):
        whole = reading(intent, 0.9)
        assert clauses.combine(whole, [reading("order_status", 0.99)]).intent == intent
    whole = reading("refuse_customs", 0.98, ("faq_service_hours", 0.93))
    combined = clauses.combine(whole, [reading("faq_service_hours", 1.0)])
    assert (combined.intent, combined.also) == ("refuse_customs", ("faq_service_hours",))


async def test_a_one_sentence_message_is_read_once() -> None:
    calls: list[str] = []

    async def parse(text: str) -> Parse:
        calls.append(text)
        return reading("faq_hotline", 0.9)

    whole = reading("thanks", 0.9)
    assert await clauses.understand(parse, "Thanks for the help", whole) is whole
    assert calls == []
    combined = await clauses.understand(parse, "Thanks! Hotline?", whole)
    assert calls == ["Thanks!", "Hotline?"] and combined.intent == "faq_hotline"


async def test_the_sentences_are_read_together() -> None:
    in_flight, most = 0, 0

    async def parse(text: str) -> Parse:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0)  # a server's answer: the other sentences are asked meanwhile
        in_flight -= 1
        return reading("faq_hotline" if "Hotline" in text else "faq_contact_email", 0.9)

    combined = await clauses.understand(parse, "Hotline? Email? Hours?", reading("thanks", 0.9))
    assert most == 3
    assert (combined.intent, combined.also) == ("faq_hotline", ("faq_contact_email",))


# --- through the pipeline, with the embedded NLU: phrasings that are not in nlu_data/


async def replies_to(bot: Components, text: str) -> list[tuple[str | None, str]]:
    info, _ = await bot.store.create_conversation(Channel.WEB)
    replies = await bot.pipeline.handle(Incoming(info.id, text))
    return [(r.intent, r.action.value) for r in replies if r.intent != "handoff"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks, and when will it arrive?", [("order_status", "order")]),
        ("Danke! Und wann sind Sie erreichbar?", [("faq_service_hours", "answer")]),
        ("Спасибо! А где мой заказ?", [("order_status", "order")]),
        ("謝謝，請問客服熱線是多少？", [("faq_hotline", "answer")]),
        ("감사합니다. 고객센터 전화번호가 뭐예요?", [("faq_hotline", "answer")]),
        ("谢谢！另外你们的邮箱是多少？", [("faq_contact_email", "answer")]),
        (
            "What are your service hours? And what's your email?",
            [("faq_service_hours", "answer"), ("faq_contact_email", "answer")],
        ),
        (
            "Hi. Can I pay with PayPal? Also do you ship to Germany?",
            [("faq_payment", "answer"), ("faq_logistics", "answer")],
        ),
        (
            "What are your hours? Where is my order?",
            [("faq_service_hours", "answer"), ("order_status", "order")],
        ),
        (
            "My parcel is stuck at customs. What are your hours?",
            [("faq_service_hours", "answer"), ("refuse_customs", "refuse")],
        ),
    ],
)
async def test_each_question_of_a_message_is_answered(
    bot: Components, text: str, expected: list[tuple[str, str]]
) -> None:
    assert await replies_to(bot, text) == expected


async def test_a_person_asked_for_beside_a_rude_word_gets_a_person(bot: Components) -> None:
    answer = await replies_to(bot, "I want a person. This bot is useless.")
    assert answer == [("ask_human", "handoff")]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I ordered a phone last week. It still hasn't arrived.", "order_status"),
        ("Ich habe gestern bestellt. Wann kommt das Paket?", "order_status"),
        ("我上周下的单。现在还没到。", "order_status"),
        ("How do I complain? The seller ignores me.", "faq_feedback"),
        ("Great, thanks. Bye!", "thanks"),
    ],
)
async def test_one_question_in_several_sentences_gets_one_answer(
    bot: Components, text: str, intent: str
) -> None:
    answer = await replies_to(bot, text)
    assert [i for i, _ in answer] == [intent]


async def test_the_other_answer_survives_the_order_flow(bot: Components) -> None:
    answer = await replies_to(bot, "What payment methods do you have? Where is ORD2024001234?")
    assert answer[0] == ("faq_payment", "answer")
    assert answer[1][0] == "order_status" and len(answer) == 2


@given(st.lists(st.tuples(SENTENCE, st.sampled_from(ENDS)), max_size=10), st.booleans())
def test_clauses_are_the_message_s_pieces_in_order(
    parts: list[tuple[str, str]], commas: bool
) -> None:
    text = "".join(sentence + end for sentence, end in parts)
    pieces = clauses.clauses(text, commas=commas)
    assert len(pieces) <= clauses.MAX_CLAUSES
    position = 0
    for piece in pieces:
        assert piece == piece.strip() and re.search(r"\w", piece), pieces
        found = text.find(piece, position)
        assert found >= 0, (text, pieces)
        position = found + len(piece)


@given(st.lists(st.sampled_from(EXAMPLES), min_size=2, max_size=4), st.sampled_from(ENDS))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
async def test_training_sentences_strung_together_get_distinct_answers(
    bot: Components, sentences: list[str], end: str
) -> None:
    info, _ = await bot.store.create_conversation(Channel.WEB)
    replies = await bot.pipeline.handle(Incoming(info.id, end.join(sentences)))
    assert replies
    answers = [r.intent for r in replies if r.action is Action.ANSWER]
    assert len(answers) == len(set(answers)) <= 1 + clauses.MAX_ASIDES, answers


async def test_a_language_asked_for_beside_a_question_answers_it_in_that_language(
    bot: Components,
) -> None:
    info, _ = await bot.store.create_conversation(Channel.WEB)
    text = "Please answer in Russian. Where is my order?"
    replies = await bot.pipeline.handle(Incoming(info.id, text))
    assert [(r.intent, r.language) for r in replies] == [
        ("switch_language", "ru"),
        ("order_status", "ru"),
    ]
    answer = await replies_to(bot, "Bitte auf Englisch. Ich möchte mit einem Menschen sprechen.")
    assert answer == [("switch_language", "answer"), ("ask_human", "handoff")]
    assert await replies_to(bot, "English please") == [("switch_language", "answer")]


async def test_in_a_group_the_other_question_is_answered_and_the_order_goes_private(
    bot: Components,
) -> None:
    info, _ = await bot.store.create_conversation(Channel.TELEGRAM)
    text = "What payment methods do you have? Where is my order ORD2024001234?"
    replies = await bot.pipeline.handle(
        Incoming(info.id, text, is_group=True, channel_user_id="555")
    )
    assert [r.intent for r in replies] == ["faq_payment", "order_status"]
    assert "ORD2024001234" not in replies[1].text and "private_chat" in replies[1].details
