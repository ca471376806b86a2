"""Language identification of one customer message.

Evidence is taken cheapest first:

1. Noise that carries no language (URLs, e-mail addresses, order numbers, product codes,
   digits, punctuation, emoji) is removed, and the remaining letters are counted per Unicode
   script. The dominant script decides: Hangul → ``ko``, Han → Chinese (Simplified or
   Traditional by the characters used), kana → unsupported ``ja``, Cyrillic → ``ru``
   (or an unsupported Cyrillic language with letters Russian never uses), other scripts →
   unsupported.
2. Latin text is English or German by a naive-Bayes sum of two log-likelihood ratios, both
   from the ``wordfreq`` frequency lists (kept compact by :mod:`bot.wordtable`): a
   word-unigram one, and one of character n-gram models (:mod:`bot.charmodel`), which also
   judge the words no list knows. Neither is fitted to any benchmark.
3. Only longer Latin text that English and German words do not explain well (or that has
   letters neither language uses) is shown to a broader lingua model, which may call it an
   unsupported language.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
from zhon import cedict

from bot.charmodel import LATIN_LETTERS, LATIN_WORD
from bot.heap import release_free_memory
from bot.wordtable import cached_tables

log = logging.getLogger(__name__)

SUPPORTED: tuple[str, ...] = ("en", "zh-Hans", "zh-Hant", "ru", "de", "ko")
#: Where the word table is cached unless the caller names a folder (the app: NLU_MODEL_PATH's).
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / "data"

#: Only this much of a message is analysed.
MAX_CHARS = 2000
#: Latin words given to the n-gram models (their cost grows with the length; the word
#: table sees every word).
CHAR_MAX_WORDS = 16
#: Latin words given to the broader lingua model.
BROAD_MAX_WORDS = 12
#: The n-gram models' log odds are clipped to ±this, and not asked when the word evidence
#: alone is larger (they could not flip it then): most sentences are decided without them.
CHAR_CLAMP = math.log(1e6)
#: A missing word's frequency (just below the lists' smallest entry, zipf 1).
FREQ_FLOOR = 1e-8
#: Rarer words are not kept (they move no verdict on the benchmark; they cost 45 MB).
MIN_STORED_FREQ = 3e-8
#: A word "explains" text when it is at least this common (zipf 3) in English or German.
KNOWN_FREQ = 1e-6
#: Below this share of explained words, longer Latin text may be another language.
COVERAGE_GATE = 0.7
#: The broader model's verdict must be at least this confident to call a language unsupported.
UNSUPPORTED_MIN_CONFIDENCE = 0.6
#: Share of the words of 3+ letters that must have a vowel for an unsupported verdict.
PRONOUNCEABLE_SHARE = 0.75
#: Latin text needs this many words and letters for a strong or an unsupported verdict.
MIN_WORDS = 3
MIN_LETTERS = 10
STRONG_MIN_CONFIDENCE = 0.95
#: Han, Hangul and kana carry more per character than a Latin or Cyrillic letter.
CJK_WEIGHT = 2
#: Tokens used the same way whatever the writer's language: they say nothing.
NEUTRAL_WORDS = frozenset({"ok", "okay", "okey", "k", "kk", "lol", "thx", "hmm", "hm", "xd"})
#: Latin-script languages a customer may write that we do not support (lingua's ISO names):
#: the main ones of Europe and South-East Asia (each costs ~20 MB of lingua models).
UNSUPPORTED_LATIN = "FR ES IT PT NL SV PL TR VI ID MS TL"

_NOISE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+"
    r"|(?<![a-z0-9.-])(?:[a-z0-9-]+\.)+(?:com|net|org|info|io|de|ru|cn|hk|kr|tw|uk|eu|shop)(?![a-z0-9-])"
    r"|(?<![a-z])ord[\s#:-]*\d[\d\s-]*"
    r"|(?<![a-z])[a-z]*\d[a-z0-9-]*",
    re.IGNORECASE,
)
_NOISE_HINT = re.compile(r"[\d@.]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_LETTER = re.compile(r"[^\W\d_]")
_HANGUL = re.compile("[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\ud7b0-\ud7ff]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_KANA = re.compile("[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff]")
_CYRILLIC = re.compile("[\u0400-\u052f]")
_LATIN_LETTER = re.compile(f"[{LATIN_LETTERS}]")
_VOWEL = re.compile("[aeiouyà-åæè-ëì-ïò-öøù-üýÿāăąēėęěīįıōőœūůűųǎǐǒǔ]")
_FOREIGN_LATIN = re.compile("[^a-zäöüß']")
#: Cyrillic letters that Russian never uses → that language (checked in order).
_CYRILLIC_OTHERS = (("mk", "ѓќѕ"), ("sr", "ђјљњћџ"), ("kk", "әғқңөұ"), ("be", "ў"))
_UKRAINIAN, _RUSSIAN_ONLY = frozenset("іїєґ"), frozenset("ыэъё")
#: Other scripts → the main language written in them (``und`` when none is listed).
_OTHER_SCRIPTS = (
    ("ar", re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")),
    ("he", re.compile("[\u0590-\u05ff]")),
    ("el", re.compile("[\u0370-\u03ff\u1f00-\u1fff]")),
    ("th", re.compile("[\u0e00-\u0e7f]")),
    ("hi", re.compile("[\u0900-\u097f]")),
    ("bn", re.compile("[\u0980-\u09ff]")),
    ("ta", re.compile("[\u0b80-\u0bff]")),
    ("ka", re.compile("[\u10a0-\u10ff]")),
    ("hy", re.compile("[\u0530-\u058f]")),
    ("km", re.compile("[\u1780-\u17ff]")),
    ("lo", re.compile("[\u0e80-\u0eff]")),
    ("my", re.compile("[\u1000-\u109f]")),
    ("am", re.compile("[\u1200-\u137f]")),
)


@dataclass(frozen=True, slots=True)
class Detection:
    """What one message says about its language.

    Attributes:
        language: A tag of ``SUPPORTED``; None without language signal or when unsupported.
        unsupported: ISO 639-1 code of a clearly identified unsupported language (``und``
            for letters of an unlisted script), else None.
        confidence: 0..1.
        strong: The evidence is script-based or a confident verdict on enough text.
        ambiguous_script: Han text written the same in Simplified and Traditional (reported
            as ``zh-Hans``; a caller may keep a ``zh-Hant`` conversation).
    """

    language: str | None
    unsupported: str | None
    confidence: float
    strong: bool
    ambiguous_script: bool = False


NO_SIGNAL = Detection(None, None, 0.0, False)


def _counts(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


class LanguageDetector:
    """Detects the language of a message; build once, share (it is read-only)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        """Load the word frequencies and n-gram models, and the Han character sets.

        Args:
            cache_dir: Where the word-frequency table is cached (built there once).
        """
        broad = [Language.ENGLISH, Language.GERMAN] + [
            Language.from_iso_code_639_1(getattr(IsoCode639_1, code))
            for code in UNSUPPORTED_LATIN.split()
        ]
        # Low accuracy (trigrams only) is lingua's mode for longer text, which is all the
        # broad model sees; it costs 7 MB instead of 230 MB. Its models are loaded on first
        # use (about 0.1-0.2 s, once): most processes never see Latin text of another
        # language, and preloaded they held 15 MB of the process (13.5 MB once loaded
        # by a first such text, after returning what loading freed).
        self._broad = (
            LanguageDetectorBuilder.from_languages(*broad).with_low_accuracy_mode().build()
        )
        self._broad_used = False
        self._words, self._chars = cached_tables(cache_dir or DEFAULT_CACHE, MIN_STORED_FREQ)
        self._simplified_only, self._traditional_only = chinese_script_patterns()

    def detect(self, text: str) -> Detection:
        """Detect the language of ``text``; never raises.

        Args:
            text: The customer's message (only its first ``MAX_CHARS`` characters count).

        Returns:
            The detection; ``NO_SIGNAL`` for text without language evidence.
        """
        try:
            return self._detect(text)
        except Exception:  # a detection must never take a conversation down
            log.exception("language detection failed; treating the text as no signal")
            return NO_SIGNAL

    def _detect(self, text: str) -> Detection:
        clean = _clean(text[:MAX_CHARS])
        letters = _counts(_LETTER, clean)
        if not letters:
            return NO_SIGNAL
        latin = _counts(_LATIN_LETTER, clean)
        if latin == letters:
            return self._latin(clean)
        han = _counts(_HAN, clean)
        if han == letters:
            return self._chinese(clean, 1.0)
        cyrillic = _counts(_CYRILLIC, clean)
        if cyrillic == letters:
            return _cyrillic(clean.casefold(), 1.0)
        hangul, kana = _counts(_HANGUL, clean), _counts(_KANA, clean)
        cjk = hangul + han + kana
        other = max(0, letters - cjk - cyrillic - latin)
        best = max(CJK_WEIGHT * cjk, cyrillic, latin, other)
        share = best / (CJK_WEIGHT * cjk + cyrillic + latin + other)
        if best == latin:
            return self._latin(clean)
        if best == CJK_WEIGHT * cjk:
            if hangul >= han + kana:
                return Detection("ko", None, share, True)
            if kana >= 2 or not han:
                return Detection(None, "ja", share, True)
            return self._chinese(clean, share)
        if best == cyrillic:
            return _cyrillic(clean.casefold(), share)
        code, pattern = max(_OTHER_SCRIPTS, key=lambda item: _counts(item[1], clean))
        return Detection(None, code if pattern.search(clean) else "und", share, True)

    def _chinese(self, text: str, share: float) -> Detection:
        simplified = _counts(self._simplified_only, text)
        traditional = _counts(self._traditional_only, text)
        if traditional > simplified:
            return Detection("zh-Hant", None, share, True)
        return Detection("zh-Hans", None, share, True, ambiguous_script=simplified == traditional)

    def _latin(self, text: str) -> Detection:
        words = LATIN_WORD.findall(text.casefold())
        if all(word in NEUTRAL_WORDS for word in words):
            return NO_SIGNAL
        score, known = self._word_evidence(words)
        letters = sum(map(len, words))
        long_enough = len(words) >= MIN_WORDS and letters >= MIN_LETTERS
        unexplained = known < COVERAGE_GATE * len(words) or _foreign(words)
        if long_enough and unexplained and _pronounceable(words):
            unsupported = self._unsupported(words)
            if unsupported is not None:
                return unsupported
        if abs(score) <= CHAR_CLAMP:
            chars = self._chars.log_odds(words[:CHAR_MAX_WORDS])
            score += min(max(chars, -CHAR_CLAMP), CHAR_CLAMP)
        confidence = 1.0 / (1.0 + math.exp(-abs(score)))
        strong = long_enough and confidence >= STRONG_MIN_CONFIDENCE
        return Detection("de" if score > 0 else "en", None, confidence, strong)

    def _word_evidence(self, words: list[str]) -> tuple[float, int]:
        """Word-unigram log-likelihood ratio of German over English, and the known words."""
        english, german = self._words.lookup(words, FREQ_FLOOR)
        score = float(np.log(german / english).sum())
        known = int(((english >= KNOWN_FREQ) | (german >= KNOWN_FREQ)).sum())
        return score, known

    def _unsupported(self, words: list[str]) -> Detection | None:
        """The broader model's verdict, when it is a confident one for an unsupported language."""
        values = self._broad.compute_language_confidence_values(" ".join(words[:BROAD_MAX_WORDS]))
        if not self._broad_used:  # its models were loaded just now: return what that freed
            self._broad_used = True
            release_free_memory()
        top = values[0] if values else None
        if top is None or top.language in (Language.ENGLISH, Language.GERMAN):
            return None
        if top.value < UNSUPPORTED_MIN_CONFIDENCE:
            return None
        return Detection(None, top.language.iso_code_639_1.name.lower(), float(top.value), True)


@functools.cache
def chinese_script_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Patterns of the characters CC-CEDICT writes only in Simplified, only in Traditional.

    Built from zhon's CC-CEDICT strings, the character sets ``hanzidentifier`` uses,
    without importing it: its module-level sets and its 13,000-character regex cost
    5 MB of every process.
    """
    simplified, traditional = set(cedict.simplified), set(cedict.traditional)
    return (
        re.compile(f"[{''.join(sorted(simplified - traditional))}]"),
        re.compile(f"[{''.join(sorted(traditional - simplified))}]"),
    )


def is_traditional(text: str) -> bool:
    """Whether the Chinese of ``text`` is Traditional only (hanzidentifier's TRADITIONAL).

    That is: some characters only Traditional Chinese writes, none only Simplified writes.
    """
    simplified_only, traditional_only = chinese_script_patterns()
    return traditional_only.search(text) is not None and simplified_only.search(text) is None


def _pronounceable(words: list[str]) -> bool:
    """Whether the longer words have vowels, as the words of a language do.

    Keyboard mashing such as "qwzx vbnm" does not, and must not be taken for Malay.
    """
    longer = [word for word in words if len(word) >= 3]
    voiced = sum(1 for word in longer if _VOWEL.search(word))
    return not longer or voiced >= PRONOUNCEABLE_SHARE * len(longer)


def _clean(text: str) -> str:
    """Text without what carries no language: URLs, addresses, order numbers, codes."""
    if not text.isascii():
        text = _SURROGATES.sub("", unicodedata.normalize("NFKC", text)).replace("\u2019", "'")
    return _NOISE.sub(" ", text) if _NOISE_HINT.search(text) else text


def _foreign(words: list[str]) -> bool:
    """Whether a word has a letter that neither English nor German uses."""
    return any(_FOREIGN_LATIN.search(word) for word in words)


def _cyrillic(folded: str, share: float) -> Detection:
    chars = frozenset(folded)
    for code, letters in _CYRILLIC_OTHERS:
        if chars.intersection(letters):
            return Detection(None, code, share, True)
    if chars & _UKRAINIAN and not chars & _RUSSIAN_ONLY:
        return Detection(None, "uk", share, True)
    return Detection("ru", None, share, True)
