"""The NLU training data in ``nlu_data/``: shape, intents, entities and scripts.

Plain checks on the Rasa 3.x YAML files (one per locale); no application code is imported.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import hanzidentifier
import pytest
import yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "nlu_data"

LOCALES = ("en", "zh_Hans", "zh_Hant", "ru", "de", "ko")

EXPECTED_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "thanks",
        "bot_capabilities",
        "ask_human",
        "cancel",
        "order_status",
        "my_orders",
        "inform",
        "dont_know",
        "affirm",
        "deny",
        "faq_contact_email",
        "faq_email_subject",
        "faq_live_chat",
        "faq_hotline",
        "faq_telegram_groups",
        "faq_service_hours",
        "faq_response_times",
        "faq_resolution",
        "faq_platform_scope",
        "faq_customer_duties",
        "faq_escalation",
        "faq_feedback",
        "faq_payment",
        "faq_logistics",
        "faq_languages",
        "urgent_refund_missing",
        "urgent_account_theft",
        "complex_return",
        "complex_payment_anomaly",
        "refuse_customs",
        "refuse_tax",
        "refuse_own_loss",
        "abuse",
        "out_of_scope",
    }
)

MIN_EXAMPLES = 12
ENTITY_NAMES = frozenset({"order_number", "email", "phone"})

# [text](name): text without brackets, name a word.
ANNOTATION = re.compile(r"\[([^\[\]]+)\]\(([^()]*)\)")
# After NFKC (full-width to ASCII): ORD, optional separators, 6-20 digits, maybe spaced.
ORDER_NUMBER = re.compile(r"ORD[\s\-#:]*\d(?:[\s\-]?\d){5,19}", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+?[\d\s\-()]*\d")

WRONG_SCRIPT = {
    "zh_Hans": {hanzidentifier.TRADITIONAL, hanzidentifier.MIXED},
    "zh_Hant": {hanzidentifier.SIMPLIFIED, hanzidentifier.MIXED},
}


@cache
def load(locale: str) -> dict[str, Any]:
    """The parsed YAML document of one locale."""
    document = yaml.safe_load((DATA_DIR / f"{locale}.yml").read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{locale}.yml is not a mapping"
    return document


def examples_of(item: dict[str, Any]) -> list[str]:
    """The ``- ...`` lines of one ``examples: |`` block, without the dash."""
    block = item.get("examples")
    assert isinstance(block, str), f"{item}: 'examples' must be a block string"
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    for line in lines:
        assert line.startswith("- "), f"example line without '- ': {line!r}"
    return [line[2:].strip() for line in lines]


@cache
def intents(locale: str) -> dict[str, list[str]]:
    """Intent name -> its examples (annotated), for one locale."""
    result: dict[str, list[str]] = {}
    for item in load(locale)["nlu"]:
        if "intent" in item:
            name = item["intent"]
            assert name not in result, f"{locale}: intent {name} defined twice"
            result[name] = examples_of(item)
    return result


def plain(example: str) -> str:
    """The example without annotations, as a customer would have typed it."""
    return ANNOTATION.sub(r"\1", example)


def key(example: str) -> str:
    """What makes two examples 'the same': text without annotations, case or spacing."""
    text = unicodedata.normalize("NFKC", plain(example)).casefold()
    return " ".join(text.split())


def all_examples(locale: str) -> list[tuple[str, str]]:
    """(intent, example) pairs of one locale."""
    return [(name, ex) for name, exs in intents(locale).items() for ex in exs]


def test_every_locale_file_exists_and_nothing_else() -> None:
    found = sorted(path.stem for path in DATA_DIR.glob("*.yml"))
    assert found == sorted(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_rasa_version_and_shape(locale: str) -> None:
    document = load(locale)
    assert document.get("version") == "3.1"
    assert isinstance(document.get("nlu"), list) and document["nlu"]
    for item in document["nlu"]:
        assert isinstance(item, dict)
        kinds = {"intent", "regex", "lookup", "synonym"} & set(item)
        assert len(kinds) == 1, f"{locale}: item with kinds {kinds}: {item}"
        assert examples_of(item), f"{locale}: empty examples in {item}"


@pytest.mark.parametrize("locale", LOCALES)
def test_order_number_regex_feature(locale: str) -> None:
    regexes = [item for item in load(locale)["nlu"] if item.get("regex") == "order_number"]
    assert len(regexes) == 1, f"{locale}: needs exactly one 'regex: order_number'"
    patterns = [re.compile(p) for p in examples_of(regexes[0])]
    assert any(p.search("ORD2024001234") for p in patterns)


@pytest.mark.parametrize("locale", LOCALES)
def test_intent_set(locale: str) -> None:
    assert set(intents(locale)) == EXPECTED_INTENTS


@pytest.mark.parametrize("locale", LOCALES)
def test_enough_examples(locale: str) -> None:
    short = {n: len(e) for n, e in intents(locale).items() if len(e) < MIN_EXAMPLES}
    assert not short, f"{locale}: intents with fewer than {MIN_EXAMPLES} examples: {short}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_duplicate_within_intent(locale: str) -> None:
    for name, examples in intents(locale).items():
        keys = [key(e) for e in examples]
        dups = sorted({k for k in keys if keys.count(k) > 1})
        assert not dups, f"{locale}/{name}: duplicate examples {dups}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_example_under_two_intents(locale: str) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for name, example in all_examples(locale):
        owners[key(example)].add(name)
    clashes = {k: sorted(v) for k, v in owners.items() if len(v) > 1}
    assert not clashes, f"{locale}: examples under several intents: {clashes}"


@pytest.mark.parametrize("locale", LOCALES)
def test_entity_annotations_well_formed(locale: str) -> None:
    for name, example in all_examples(locale):
        for text, entity in ANNOTATION.findall(example):
            assert entity in ENTITY_NAMES, f"{locale}/{name}: unknown entity in {example!r}"
            assert text == text.strip() and text, f"{locale}/{name}: padded entity {example!r}"
        rest = ANNOTATION.sub("", example)
        assert not re.search(r"[\[\]]|\]\(", rest), f"{locale}/{name}: broken markup {example!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_entity_values_have_their_shape(locale: str) -> None:
    for name, example in all_examples(locale):
        for text, entity in ANNOTATION.findall(example):
            value = unicodedata.normalize("NFKC", text)
            if entity == "order_number":
                assert ORDER_NUMBER.fullmatch(value), f"{locale}/{name}: order number {text!r}"
            elif entity == "email":
                assert EMAIL.fullmatch(value), f"{locale}/{name}: email {text!r}"
            else:
                digits = re.sub(r"\D", "", value)
                assert PHONE.fullmatch(value) and len(digits) >= 4, (
                    f"{locale}/{name}: phone {text!r}"
                )


@pytest.mark.parametrize("locale", LOCALES)
def test_order_numbers_in_text_are_annotated(locale: str) -> None:
    """An order number left bare would teach the entity model that it is not one."""
    for name, example in all_examples(locale):
        rest = unicodedata.normalize("NFKC", ANNOTATION.sub("", example))
        assert not ORDER_NUMBER.search(rest), f"{locale}/{name}: bare order number {example!r}"


def test_inform_carries_entities_everywhere() -> None:
    for locale in LOCALES:
        annotated = [e for e in intents(locale)["inform"] if ANNOTATION.search(e)]
        names = {n for e in annotated for _, n in ANNOTATION.findall(e)}
        assert len(annotated) >= MIN_EXAMPLES // 2, f"{locale}: inform needs entities"
        assert names == ENTITY_NAMES, f"{locale}: inform lacks entity kinds {ENTITY_NAMES - names}"


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_chinese_script(locale: str) -> None:
    wrong = [
        (name, example)
        for name, example in all_examples(locale)
        if hanzidentifier.identify(plain(example)) in WRONG_SCRIPT[locale]
    ]
    assert not wrong, f"{locale}: examples in the wrong script: {wrong}"


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_chinese_files_are_chinese(locale: str) -> None:
    """Most examples carry Han characters (not English left in by mistake)."""
    examples = all_examples(locale)
    chinese = [e for _, e in examples if hanzidentifier.has_chinese(plain(e))]
    assert len(chinese) >= 0.8 * len(examples)


def test_the_model_serves_sklearns_margins_without_sklearn(tmp_path: Path) -> None:
    import numpy as np

    from bot.nlu.data import load_examples
    from bot.nlu.embedded import ANALYZERS, Model, features_text, fit

    examples = load_examples(DATA_DIR)
    texts = [features_text(e.text) for e in examples]
    pipeline = fit(texts[::2], [e.intent for e in examples[::2]])
    vectorizers = [v for _, v in pipeline.named_steps["features"].transformer_list]
    for analyze, vectorizer in zip(ANALYZERS, vectorizers, strict=True):
        reference = vectorizer.build_analyzer()
        assert all(analyze(text) == reference(text) for text in texts)
    model = Model.from_pipeline(pipeline)
    model.save(tmp_path / "model.npz", "fp")
    loaded = Model.load(tmp_path / "model.npz", "fp")
    assert loaded is not None and Model.load(tmp_path / "model.npz", "other") is None
    probes = [*texts, "", "zzzz", "ordnum ???", "謝謝 감사합니다 спасибо"]
    expected = pipeline.decision_function(probes)
    got = np.array([loaded.margins(text) for text in probes])
    # the weights are kept in half precision: a margin may move by a few 1e-4
    assert np.allclose(got, expected, atol=1e-3)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).mean() > 0.999
    assert loaded.terms == model.terms and sum(map(len, model.terms)) == len(model.weights)


def test_a_broken_model_file_is_retrained(tmp_path: Path) -> None:
    from bot.nlu.embedded import EmbeddedNlu

    path = tmp_path / "model.npz"
    path.write_bytes(b"not a model")
    nlu = EmbeddedNlu.load_or_train(path, DATA_DIR, 0.5)
    assert nlu.predict("What is the support email?").intent == "faq_contact_email"
    assert EmbeddedNlu.load_or_train(path, DATA_DIR, 0.5).fingerprint == nlu.fingerprint
