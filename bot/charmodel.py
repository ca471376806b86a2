"""Character n-gram models of English and German words, in one compact table.

A word's probability in a language is the product of each of its letters' (and its end's)
probability given up to four letters before it, with "stupid backoff" (Brants et al.,
2007) to shorter contexts: each step back multiplies by ``ALPHA``. The counts come from
``wordfreq``'s word lists, each word weighted by its frequency, so the models describe
running text, as the models of language detectors such as lingua do; they are not fitted to
any benchmark. They judge the words no list knows (compounds, inflections, typos) and add
to the word-unigram evidence of the words it knows.

An n-gram is keyed by a polynomial hash of its code points (order included), computed for
a whole message at once with NumPy; the table keeps the sorted keys and each language's
conditional log probability in half precision (``-inf``: not seen in that language).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

import numpy as np

#: Letters of the Latin script a word may be made of (with inner apostrophes).
LATIN_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
#: A word: Latin letters, with apostrophes inside.
LATIN_WORD = re.compile(f"[{LATIN_LETTERS}]+(?:'[{LATIN_LETTERS}]+)*")
#: Longest n-gram (a letter and four before it).
ORDER = 5
#: What each step back to a shorter context costs (Brants et al.'s value).
ALPHA = 0.4
#: Log probability of a letter neither list ever uses.
UNSEEN = float(np.log(1e-9))

_MASK = (1 << 64) - 1
_SEED = 0x9E3779B97F4A7C15
_FACTOR = 0x100000001B3  # FNV's 64-bit prime
_SPACE = ord(" ")
_LOG_ALPHA = float(np.log(ALPHA))
#: Ranks the orders apart: far more than a log probability's size.
_RANK = 1000.0
_ORDER_COLUMN = np.arange(1, ORDER + 1)[:, None]
_RANKS = (_ORDER_COLUMN * (_RANK - _LOG_ALPHA))[..., None].astype(np.float32)


def _hashes(codes: np.ndarray) -> np.ndarray:
    """The key of the n-gram of each order 1..ORDER (rows) ending at each position (columns).

    Keys of n-grams that would start before the text are meaningless; callers mask them.
    """
    keys = np.empty((ORDER, len(codes)), dtype=np.uint64)
    np.add(codes, np.uint64((_SEED * _FACTOR) & _MASK), out=keys[0])
    keys[1:, 0] = 0
    factor = np.uint64(_FACTOR)
    for row in range(1, ORDER):
        np.multiply(keys[row - 1, :-1], factor, out=keys[row, 1:])
        keys[row, 1:] += codes[1:]
    return keys


def _orders(codes: np.ndarray) -> np.ndarray:
    """The longest order that stays inside its word at each position (0 at the start).

    The text is words between single spaces; an n-gram may start with a word's leading
    space and end with its trailing one, never hold a space inside.
    """
    positions = np.arange(len(codes))
    spaces = np.where(codes == _SPACE, positions, -1)
    last_space = np.maximum.accumulate(np.concatenate(([-1], spaces[:-1])))
    longest = np.minimum(positions - last_space + 1, ORDER)
    longest[0] = 0
    return longest


def _codes(words: Sequence[str]) -> np.ndarray:
    text = " " + " ".join(words) + " "
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


#: Words counted at once while building (the German list is 8 million letters).
_CHUNK = 50_000


def _counts(words: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Every n-gram's key and conditional log probability in ``words`` (frequency-weighted).

    Only words of ``LATIN_WORD`` are counted: the lists hold other tokens too.
    """
    items = ((word, frequency) for word, frequency in words.items() if LATIN_WORD.fullmatch(word))
    parts: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(ORDER)]
    while chunk := list(itertools.islice(items, _CHUNK)):
        for order, part in enumerate(_chunk_counts(chunk), 1):
            parts[order - 1].append(part)
    found_keys, found_logs = [], []
    for order, chunks in enumerate(parts, 1):
        if not chunks:  # no words
            break
        columns = (np.concatenate(column) for column in zip(*chunks, strict=True))
        grams, prefixes, totals = _merged(*columns)
        if order == 1:
            context_total = np.full(len(grams), totals.sum())
        else:  # a context's total: the summed counts of the n-grams that continue it
            _, context_of = np.unique(prefixes, return_inverse=True)
            context_total = np.bincount(context_of, weights=totals)[context_of]
        found_keys.append(grams)
        found_logs.append(np.log(totals) - np.log(context_total))
    if not found_keys:
        return np.zeros(0, np.uint64), np.zeros(0)
    return np.concatenate(found_keys), np.concatenate(found_logs)


def _chunk_counts(
    items: Sequence[tuple[str, float]],
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each order: the n-grams of ``items``, each one's context key and summed weight."""
    codes = _codes([word for word, _ in items])
    lengths = np.fromiter((len(word) + 1 for word, _ in items), dtype=np.int64, count=len(items))
    frequencies = np.fromiter((frequency for _, frequency in items), float, count=len(items))
    weight = np.concatenate(([0.0], np.repeat(frequencies, lengths)))
    keys, longest = _hashes(codes), _orders(codes)
    # The context of the n-gram ending at a position: the shorter one ending before it.
    contexts = np.roll(keys, 1, axis=1)
    result = []
    for order in range(1, ORDER + 1):
        valid = longest >= order
        if order == 1:
            valid &= codes != _SPACE  # a word's end is predicted after a letter, never alone
        row = order - 1
        prefixes = contexts[row - 1][valid] if order > 1 else np.zeros(int(valid.sum()), np.uint64)
        result.append(_merged(keys[row][valid], prefixes, weight[valid]))
    return result


def _merged(
    grams: np.ndarray, prefixes: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct n-grams, each one's context key and their summed weights."""
    unique, first, inverse = np.unique(grams, return_index=True, return_inverse=True)
    return unique, prefixes[first], np.bincount(inverse, weights=weights)


class CharModel:
    """English and German character n-gram models; ``log_odds`` compares them on words."""

    def __init__(self, keys: np.ndarray, english: np.ndarray, german: np.ndarray) -> None:
        """Take the sorted n-gram keys and each language's log probabilities (``-inf``: unseen)."""
        self._keys = keys
        # One row per n-gram, one column per language: one gather reads both. A last row
        # of -inf stands for every n-gram not in the table.
        self._logs = np.stack([english, german], axis=1).astype(np.float16)
        self._logs = np.concatenate([self._logs, np.full((1, 2), -np.inf, np.float16)])

    def __len__(self) -> int:
        return len(self._keys)

    @classmethod
    def build(cls, english: Mapping[str, float], german: Mapping[str, float]) -> CharModel:
        """Count the n-grams of two word-frequency lists (lower case; other tokens are left out).

        Args:
            english: Each word's frequency in English text (``wordfreq``'s list).
            german: The same for German; only words of ``LATIN_WORD`` are counted.
        """
        en_keys, en_logs = _counts(english)
        de_keys, de_logs = _counts(german)
        keys = np.union1d(en_keys, de_keys)
        columns = []
        for found, logs in ((en_keys, en_logs), (de_keys, de_logs)):
            column = np.full(len(keys), -np.inf)
            column[np.searchsorted(keys, found)] = logs
            columns.append(column)
        return cls(keys, columns[0], columns[1])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to save (see :meth:`from_arrays`)."""
        english, german = self._logs[:-1].T
        return {"ngram_keys": self._keys, "ngram_en": english, "ngram_de": german}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> CharModel:
        """The model from the arrays of :meth:`arrays`."""
        return cls(arrays["ngram_keys"], arrays["ngram_en"], arrays["ngram_de"])

    def log_probabilities(self, words: Sequence[str]) -> tuple[float, float]:
        """The natural-log probabilities of ``words`` (lower case) in English and in German."""
        if not words:
            return 0.0, 0.0
        codes = _codes(words)
        longest = _orders(codes)
        english, german = self._backed_off(codes, longest)
        shared = float(longest[1:].sum()) * _LOG_ALPHA
        return english + shared, german + shared

    def log_odds(self, words: Sequence[str]) -> float:
        """The log-likelihood ratio of German over English for ``words`` (lower case)."""
        if not words:
            return 0.0
        codes = _codes(words)
        english, german = self._backed_off(codes, _orders(codes))
        return german - english

    def _backed_off(self, codes: np.ndarray, longest: np.ndarray) -> tuple[float, float]:
        """Each language's sum of the longest seen n-gram's log probability at each position.

        Less ``ALPHA``'s log once per order it backed off from the longest one possible, but
        plus it once per order possible: that part (``longest`` times the log) is the same
        for both languages, so it is left to the caller. At one position, order n seen reads
        ``n * _RANK + log p - n * log ALPHA``; the maximum over orders is the longest seen,
        and ``UNSEEN`` where none is.
        """
        keys = _hashes(codes)
        where = np.searchsorted(self._keys, keys)
        np.minimum(where, len(self._keys) - 1, out=where)
        present = (self._keys[where] == keys) & (longest >= _ORDER_COLUMN)
        logs = self._logs[np.where(present, where, len(self._keys))]  # order, position, language
        ranked = np.maximum((logs + _RANKS).max(axis=0)[1:], UNSEEN)  # -inf: none seen
        values = ranked - _RANK * np.rint(ranked / _RANK)
        english, german = values.sum(axis=0)
        return float(english), float(german)
