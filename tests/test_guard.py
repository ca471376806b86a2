"""The policy guard: out-of-scope topics refused in every language, never a dead end."""

from __future__ import annotations

import pytest

from bot import guard
from bot.app import Components
from bot.core import Channel, Incoming
from bot.nlu import Parse


async def replies_to(bot: Components, text: str) -> list[tuple[str | None, str]]:
    info, _ = await bot.store.create_conversation(Channel.WEB)
    return [(r.intent, r.action.value) for r in await bot.pipeline.handle(Incoming(info.id, text))]


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("My parcel is stuck in customs, what documents do I need?", "refuse_customs"),
        ("Mein Paket hängt beim Zoll fest, was soll ich tun?", "refuse_customs"),
        ("Посылка застряла на таможне, что делать?", "refuse_customs"),
        ("包裹被海关扣了怎么办", "refuse_customs"),
        ("包裹被海關扣了怎麼辦", "refuse_customs"),
        ("세관에서 물건이 안 나와요", "refuse_customs"),
        ("How much import duty will I pay?", "refuse_tax"),
        ("Wie viel Einfuhrumsatzsteuer muss ich zahlen?", "refuse_tax"),
        ("Какую пошлину я заплачу?", "refuse_tax"),
        ("要交多少关税？", "refuse_tax"),
        ("要交多少關稅？", "refuse_tax"),
        ("관세 얼마 내야 해요?", "refuse_tax"),
        ("I gave my password to a friend and he spent my money, refund me", "refuse_own_loss"),
        ("Ich habe außerhalb der Plattform bezahlt und wurde betrogen", "refuse_own_loss"),
        ("я сообщил код из смс мошенникам, верните деньги", "refuse_own_loss"),
        ("我把密码告诉了别人，钱没了", "refuse_own_loss"),
        ("비밀번호를 친구한테 알려줬는데 돈이 빠져나갔어요", "refuse_own_loss"),
    ],
)
async def test_out_of_scope_is_refused(bot: Components, text: str, refusal: str) -> None:
    answer = await replies_to(bot, text)
    assert (refusal, "refuse") in answer, answer


@pytest.mark.parametrize(
    "text",
    [
        "Which payment methods do you accept and are there fees?",
        "Wie lange dauert der Versand nach Deutschland ungefähr?",
        "Какой у вас номер горячей линии?",
        "你们支持哪些支付方式？",
        "退貨要怎麼處理？",
        "상담원이랑 이야기하고 싶어요",
        "What are my duties as a customer?",
    ],
)
async def test_in_scope_questions_are_not_refused(bot: Components, text: str) -> None:
    answer = await replies_to(bot, text)
    assert all(action != "refuse" for _, action in answer), answer


async def test_a_mixed_message_gets_the_answer_and_the_refusal(bot: Components) -> None:
    answer = await replies_to(bot, "What is your email address, and how much VAT will I pay?")
    assert answer == [("faq_contact_email", "answer"), ("refuse_tax", "refuse")]
    answer = await replies_to(bot, "Where is ORD2024001234, and how much duty will I pay?")
    assert answer[0][0] == "order_status" and ("refuse_tax", "refuse") in answer


def test_a_weak_refusal_without_keywords_is_not_trusted() -> None:
    weak = Parse("refuse_customs", 0.55, (("refuse_customs", 0.55), ("faq_logistics", 0.2)))
    assert guard.check(weak, "hmm well I wonder").refusals == ()
    strong = Parse("refuse_customs", 0.9, (("refuse_customs", 0.9),))
    assert guard.check(strong, "hmm well I wonder").refusals == ("refuse_customs",)


@pytest.mark.parametrize(
    "text",
    [
        "I paid outside XOOBAY and the seller vanished",
        "Ich habe außerhalb von XOOBAY bezahlt",
        "оплатил заказ вне платформы, а продавец пропал",
        "我在平台外转账给卖家了",
        "我在平台外轉帳給賣家了",
        "플랫폼 밖에서 결제했어요",
    ],
)
def test_paying_outside_the_platform_is_found_in_every_locale(text: str) -> None:
    assert guard.keyword_refusals(text) == (guard.OWN_LOSS,)


def test_keywords_alone_turn_not_understood_into_a_refusal() -> None:
    lost = Parse(None, 0.1)
    assert guard.check(lost, "Zoll???").refusals == ("refuse_customs",)


async def test_abuse_is_warned_then_restricted(bot: Components) -> None:
    info, _ = await bot.store.create_conversation(Channel.WEB)
    said = ["You are useless idiots!", "Stupid idiots, you are all useless!", "What is your email?"]
    answers = [await bot.pipeline.handle(Incoming(info.id, text)) for text in said]
    assert answers[0][0].intent == "abuse" and "respectful" in answers[0][0].text
    assert "restricted" in answers[1][0].text
    assert "restricted" in answers[2][0].text and answers[2][0].action.value == "refuse"


# Phrasings that are not in nlu_data/ (the model has not seen them).
SMALL_TALK_AND_SETTINGS = [
    "Can you write me a short story?",
    "Kannst du mir einen Witz erzählen?",
    "Расскажи шутку",
    "농담해 줘",
    "今天会下雨吗",
    "講個故事給我聽",
    "Wie lege ich ein Kundenkonto an?",
]


@pytest.mark.parametrize("text", SMALL_TALK_AND_SETTINGS)
async def test_small_talk_is_out_of_scope_not_abuse(bot: Components, text: str) -> None:
    """It says what it can do instead and offers the quick replies; asked twice, the same."""
    info, _ = await bot.store.create_conversation(Channel.WEB)
    for _ in range(2):
        (reply,) = await bot.pipeline.handle(Incoming(info.id, text))
        assert (reply.intent, reply.action.value) == ("out_of_scope", "answer")
        assert reply.suggestions and "XOOBAY" in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "Do you sell laptops?",
        "Was kostet der Fernseher?",
        "Вы продаёте обувь?",
        "이 가방 얼마예요?",
        "这双鞋多少钱？",
        "你們賣不賣相機？",
    ],
)
async def test_a_product_question_gets_who_answers_for_products(bot: Components, text: str) -> None:
    assert await replies_to(bot, text) == [("faq_platform_scope", "answer")]


@pytest.mark.parametrize(
    "text",
    [
        "I got the wrong item from the seller",
        "Ich habe die falsche Ware bekommen",
        "Мне пришёл не тот товар",
    ],
)
async def test_a_wrong_item_is_a_return_not_the_customers_loss(bot: Components, text: str) -> None:
    answer = await replies_to(bot, text)
    assert answer[0] == ("complex_return", "answer") and ("refuse_own_loss", "refuse") not in answer


# Not in nlu_data/ (the damaged-on-arrival and forgotten-password examples added on
# 2026-12-08, after these were seen misread, are other sentences). Before them "the box was
# damaged..." and "I forgot my password" were refused as losses the customer caused.
@pytest.mark.parametrize(
    "text",
    [
        "My parcel arrived broken, what can I do?",
        "Das Paket ist beschädigt angekommen",
        "Посылка пришла разбитой",
        "收到的東西壞掉了",
        "물건이 부서져서 왔어요",
        "the box was damaged and the mug inside is cracked",
    ],
)
async def test_an_item_damaged_on_arrival_is_a_return(bot: Components, text: str) -> None:
    assert await replies_to(bot, text) == [
        ("complex_return", "answer"),
        ("complex_return", "handoff"),
    ]


@pytest.mark.parametrize(
    "text",
    ["my password is forgotten, help", "Passwort weg, was tun?", "密码忘了怎么办"],
)
async def test_a_forgotten_password_is_not_the_customers_loss(bot: Components, text: str) -> None:
    assert await replies_to(bot, text) == [("out_of_scope", "answer")]
