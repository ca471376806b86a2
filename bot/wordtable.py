"""English and German word statistics, built once from ``wordfreq`` and cached on disk.

``wordfreq``'s lists hold about a million words as Python dictionaries: some 150 MB
in memory, and a second to load. The detector needs two things from them, kept compact:

* the word table: each word's two frequencies, as a sorted array of 64-bit word hashes
  (BLAKE2b) with two columns of natural-log frequencies in half precision: 5.1 MiB for
  449,795 words, loaded in milliseconds. The logs lie between -18.4 and -2.9, which half
  precision keeps in steps of 1/64 at most, so a frequency moves by 0.8 % at most: finer
  than ``wordfreq``'s own steps of a centibel (2.3 %). Float32 frequencies took 1.7 MiB more.
* the character n-gram models of :mod:`bot.charmodel`, counted from the same lists.

Both are built from ``wordfreq`` in a child process the first time (so the serving process
never holds the dictionaries) and saved in one file beside the NLU model, named by its
layout, ``wordfreq``'s version and the frequency cut-off.
"""

from __future__ import annotations

import hashlib
import logging
import math
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from bot.charmodel import CharModel

log = logging.getLogger(__name__)


def word_hash(word: str) -> int:
    """A stable 64-bit hash of ``word`` (Python's own ``hash`` changes per process)."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


#: The saved file's layout, part of its name (1: float32 frequencies; 2: no n-grams).
LAYOUT = 3


class WordTable:
    """Frequencies of words in English and German; a missing word reads ``floor``."""

    def __init__(self, hashes: np.ndarray, english: np.ndarray, german: np.ndarray) -> None:
        """Take the sorted hashes and each language's log frequencies (``-inf``: absent)."""
        self._hashes = hashes
        self._english = np.asarray(english, dtype=np.float16)
        self._german = np.asarray(german, dtype=np.float16)

    def __len__(self) -> int:
        return len(self._hashes)

    def lookup(self, words: Sequence[str], floor: float) -> tuple[np.ndarray, np.ndarray]:
        """The English and German frequencies of ``words`` (``floor`` where unknown)."""
        keys = np.fromiter((word_hash(w) for w in words), dtype=np.uint64, count=len(words))
        positions = np.searchsorted(self._hashes, keys)
        positions[positions >= len(self._hashes)] = 0
        found = self._hashes[positions] == keys
        english = np.exp(np.where(found, self._english[positions], -np.inf).astype(np.float64))
        german = np.exp(np.where(found, self._german[positions], -np.inf).astype(np.float64))
        return np.maximum(english, floor), np.maximum(german, floor)

    @classmethod
    def build(
        cls, english: Mapping[str, float], german: Mapping[str, float], minimum: float
    ) -> WordTable:
        """The table of the words at least ``minimum`` frequent in either list."""
        words = sorted(
            {w for w, f in english.items() if f >= minimum}
            | {w for w, f in german.items() if f >= minimum}
        )
        hashes = np.fromiter((word_hash(w) for w in words), dtype=np.uint64, count=len(words))
        order = np.argsort(hashes)
        absent = -math.inf
        en = np.array([math.log(english[w]) if w in english else absent for w in words])
        de = np.array([math.log(german[w]) if w in german else absent for w in words])
        return cls(hashes[order], en[order], de[order])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to save (see :meth:`from_arrays`)."""
        return {"hashes": self._hashes, "english": self._english, "german": self._german}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> WordTable:
        """The table from the arrays of :meth:`arrays`."""
        return cls(arrays["hashes"], arrays["english"], arrays["german"])


def build_tables(minimum: float) -> tuple[WordTable, CharModel]:
    """The word table (words at least ``minimum`` frequent) and the n-gram models."""
    import wordfreq

    english = wordfreq.get_frequency_dict("en", "large")
    german = wordfreq.get_frequency_dict("de", "large")
    return WordTable.build(english, german, minimum), CharModel.build(english, german)


def save_tables(path: Path, words: WordTable, chars: CharModel) -> None:
    """Write both to ``path`` atomically (concurrent starts may race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    arrays: dict[str, Any] = words.arrays() | chars.arrays()  # (not savez's allow_pickle)
    with partial.open("wb") as out:
        np.savez(out, **arrays)
    partial.replace(path)


def load_tables(path: Path) -> tuple[WordTable, CharModel]:
    """Read what :func:`save_tables` wrote."""
    with np.load(path, allow_pickle=False) as data:
        arrays = dict(data)
    return WordTable.from_arrays(arrays), CharModel.from_arrays(arrays)


def _build_and_save(path: str, minimum: float) -> int:
    words, chars = build_tables(minimum)
    save_tables(Path(path), words, chars)
    return len(words)


def cached_tables(cache_dir: Path, minimum: float) -> tuple[WordTable, CharModel]:
    """Both from ``cache_dir``, built there first (in a child process) when missing."""
    path = cache_dir / f"langid-words-{LAYOUT}-{version('wordfreq')}-{minimum:g}.npz"
    try:
        return load_tables(path)
    except (OSError, ValueError, KeyError):
        pass
    log.info("building the word table and n-gram models %s from wordfreq (once)", path)
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            pool.submit(_build_and_save, str(path), minimum).result()
        return load_tables(path)
    except OSError as error:  # a read-only folder: keep them in memory only
        log.warning("cannot cache the word table in %s (%s)", cache_dir, error)
        return build_tables(minimum)
