"""Messages the support policy does not cover: declined, never refused or warned about."""

from __future__ import annotations

import re

from bot.app import Components
from bot.config import ROOT
from bot.core import Action, Channel, Incoming
from bot.i18n import CATALOGS
from bot.nlu import Parse
from bot.nlu.data import Example, load_examples
from bot.nlu.evaluation import DECLINING, load_open_domain, open_domain

MESSAGES = load_open_domain()


def plain(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text).strip().casefold()


def test_the_set_covers_every_locale_and_none_of_it_is_trained_on() -> None:
    by_locale: dict[str, int] = {}
    for message in MESSAGES:
        by_locale[message.locale] = by_locale.get(message.locale, 0) + 1
    assert sorted(by_locale) == sorted(CATALOGS.values())
    assert min(by_locale.values()) >= 15, by_locale
    trained = {plain(e.text) for e in load_examples(ROOT / "nlu_data")}
    assert not [m.text for m in MESSAGES if plain(m.text) in trained]


class Scripted:
    """An NLU backend that reads each message as it is told."""

    def __init__(self, readings: dict[str, Parse]) -> None:
        self.readings = readings

    async def parse(self, text: str, language: str) -> Parse:
        return self.readings.get(text, Parse(None, 0.2, ()))


def reading(intent: str, confidence: float = 0.95) -> Parse:
    return Parse(intent, confidence, ((intent, confidence),))


async def test_each_reading_is_counted_as_declined_answered_or_acted_on() -> None:
    readings = {
        "joke": reading("out_of_scope"),
        "who": reading("bot_capabilities"),
        "hi": reading("greet"),
        "scores": reading("faq_hotline"),
        "sum": reading("order_status"),
        "love": reading("abuse"),
        "rates": reading("out_of_scope", 0.6),
        "no idea": reading("dont_know"),  # nothing was asked: not understood
    }
    texts = [*readings, "mumble", "what is the tax on a coffee"]
    measured = await open_domain(
        Scripted(readings), [Example(t, "out_of_scope", "en") for t in texts]
    )
    assert measured.messages == 10
    # joke, who, hi, rates, no idea, and mumble (asked again)
    assert round(measured.declined * 10) == 6
    assert round(measured.answered * 10) == 1  # scores
    assert round(measured.acted * 10) == 3  # sum, love, and the tax keyword's refusal
    assert dict(measured.misread) == {
        "scores": "faq_hotline",
        "sum": "order_status",
        "love": "abuse",
        "what is the tax on a coffee": "refuse_tax",
    }


async def test_the_bot_declines_them_and_never_refuses_or_warns(bot: Components) -> None:
    refused, acted, declined = [], [], 0
    for message in MESSAGES:
        info, _ = await bot.store.create_conversation(Channel.WEB)
        replies = await bot.pipeline.handle(Incoming(info.id, message.text))
        actions = {r.action for r in replies}
        if Action.REFUSE in actions:  # a refusal or an abuse warning blames the customer
            refused.append(message.text)
        if actions - {Action.ANSWER, Action.CLARIFY}:  # an order number asked for, a ticket
            acted.append((message.text, sorted(a.value for a in actions)))
        intents = {r.intent for r in replies}
        declined += intents <= {*DECLINING, None}
    assert refused == []
    assert len(acted) <= 0.03 * len(MESSAGES), acted
    assert declined >= 0.85 * len(MESSAGES), declined
