"""The character n-gram models: the vectorised model agrees with stupid backoff written out."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import wordfreq

from bot.charmodel import ALPHA, ORDER, UNSEEN, CharModel
from bot.langid import DEFAULT_CACHE, MIN_STORED_FREQ
from bot.wordtable import cached_tables

ENGLISH = {"the": 0.05, "order": 0.002, "shipping": 0.001, "there": 0.003, "other": 0.002}
GERMAN = {"die": 0.04, "bestellung": 0.001, "versand": 0.001, "dieser": 0.002, "ordner": 0.0005}


def reference(words: dict[str, float], word: str) -> float:
    """log P(word) by the definition: every letter and the end given up to ORDER - 1 before."""
    counts: Counter[str] = Counter()
    for known, frequency in words.items():
        padded = f" {known} "
        for n in range(1, ORDER + 1):
            for start in range(len(padded) - n + 1):
                gram = padded[start : start + n]
                if gram != " ":
                    counts[gram] += frequency
    contexts: Counter[str] = Counter()
    for gram, count in counts.items():
        contexts[gram[:-1]] += count
    padded, total = f" {word} ", 0.0
    for end in range(1, len(padded)):
        penalty = 0.0
        for n in range(min(ORDER, end + 1), 0, -1):
            gram = padded[end - n + 1 : end + 1]
            if counts[gram]:
                total += math.log(counts[gram] / contexts[gram[:-1]]) + penalty
                break
            penalty += math.log(ALPHA)
        else:
            total += UNSEEN + penalty
    return total


@pytest.fixture(scope="module")
def small() -> CharModel:
    return CharModel.build(ENGLISH, GERMAN)


@pytest.mark.parametrize("word", ["the", "order", "ordner", "bestellung", "thereby", "zq", "ä"])
def test_each_word_scores_as_stupid_backoff_defines_it(small: CharModel, word: str) -> None:
    english, german = small.log_probabilities([word])
    assert english == pytest.approx(reference(ENGLISH, word), abs=0.02)
    assert german == pytest.approx(reference(GERMAN, word), abs=0.02)


def test_words_of_a_message_are_scored_one_by_one(small: CharModel) -> None:
    words = ["die", "order", "versandes", "x"]
    each = [small.log_probabilities([word]) for word in words]
    english, german = small.log_probabilities(words)
    assert english == pytest.approx(sum(e for e, _ in each), abs=1e-3)
    assert german == pytest.approx(sum(g for _, g in each), abs=1e-3)
    assert small.log_odds(words) == pytest.approx(german - english, abs=1e-3)
    assert small.log_odds([]) == 0.0


def test_tokens_that_are_not_latin_words_are_not_counted() -> None:
    plain = CharModel.build(ENGLISH, GERMAN)
    noisy = CharModel.build(ENGLISH | {"北京": 0.01, "2nd": 0.01, "a b": 0.01}, GERMAN)
    assert len(noisy) == len(plain)
    assert noisy.log_probabilities(["order"]) == plain.log_probabilities(["order"])


@pytest.fixture(scope="module")
def full() -> CharModel:
    DEFAULT_CACHE.mkdir(exist_ok=True)
    return cached_tables(DEFAULT_CACHE, MIN_STORED_FREQ)[1]


@pytest.mark.parametrize(
    ("word", "language"),
    [
        # words too rare for wordfreq's lists: the letters decide
        ("rücksendeetikettendrucker", "de"),
        ("lieferverzögerungsmeldung", "de"),
        ("unshippability", "en"),
        ("overthoughtfulness", "en"),
    ],
)
def test_unlisted_words_lean_to_their_language(full: CharModel, word: str, language: str) -> None:
    assert wordfreq.word_frequency(word, "en") == wordfreq.word_frequency(word, "de") == 0
    odds = full.log_odds([word])
    assert (odds > 0) == (language == "de")
    assert abs(odds) > 2


def test_a_language_without_words_knows_no_letter() -> None:
    model = CharModel.build(ENGLISH, {"北京": 0.5})
    english, german = model.log_probabilities(["die"])
    assert english == pytest.approx(reference(ENGLISH, "die"), abs=0.02)
    assert german == pytest.approx(reference({}, "die"), abs=0.02)
