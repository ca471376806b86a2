"""The compact word-frequency table agrees with wordfreq; both tables are cached once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wordfreq

from bot.wordtable import cached_tables, load_tables


def test_the_table_gives_wordfreqs_frequencies_and_the_floor_for_the_rest(tmp_path: Path) -> None:
    table, chars = cached_tables(tmp_path, 3e-8)
    assert list(tmp_path.glob("langid-words-*.npz"))
    words = ["the", "und", "danke", "thanks", "bestellung", "shipping", "qwzxv"]
    english, german = table.lookup(words, 1e-8)
    for word, en, de in zip(words, english, german, strict=True):
        expected_en = max(wordfreq.word_frequency(word, "en", "large"), 1e-8)
        expected_de = max(wordfreq.word_frequency(word, "de", "large"), 1e-8)
        assert np.isclose(en, expected_en, rtol=1e-2) and np.isclose(de, expected_de, rtol=1e-2)
    assert english[-1] == german[-1] == 1e-8
    again, chars_again = load_tables(next(tmp_path.glob("langid-words-*.npz")))
    assert len(again) == len(table) > 300_000
    assert len(chars_again) == len(chars) > 500_000
    assert chars_again.log_odds(["versandkosten"]) == chars.log_odds(["versandkosten"]) > 0
