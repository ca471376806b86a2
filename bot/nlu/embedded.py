"""The embedded NLU: a character and word n-gram classifier trained from ``nlu_data/``.

Character n-grams read Chinese and Korean without word boundaries; entities are found
by pattern (:mod:`bot.nlu.entities`) and replaced by placeholders before classifying,
so ``ORD2024001234`` alone reads like any other order number.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.nlu import Parse
from bot.nlu.data import Example, load_examples
from bot.nlu.entities import extract, normalize

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

FORMAT = 4  # bump when the saved model's layout changes
CHAR_NGRAMS = (1, 4)
WORD_NGRAMS = (1, 2)
TOKEN_PATTERN = r"(?u)\b\w+\b"
#: The SVM's margins become confidences by a fixed logistic: a margin of -0.5 reads 0.5.
#: (Probability calibration needs more examples per intent than the data has.)
MARGIN_SCALE = 6.0
MARGIN_OFFSET = 0.5
PLACEHOLDERS = {"order_number": " ordnum ", "email": " emailaddr ", "phone": " phonenum "}


def features_text(text: str) -> str:
    """Return the text the classifier sees: NFKC, lower-case, entities as placeholders."""
    plain = normalize(text)
    for entity in reversed(extract(plain)):
        plain = plain[: entity.start] + PLACEHOLDERS[entity.name] + plain[entity.end :]
    return plain.lower()


_HAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")


def word_view(text: str) -> str:
    """Split Chinese into characters for the word features (it has no spaces).

    Word unigrams and bigrams then see 物流 as ``物 流``, so an order number's
    placeholder is one word among several, not the only one.
    """
    return _HAN.sub(r" \1 ", text)


#: What reading a model file may raise when it is missing, truncated or not a model.
_UNREADABLE = (OSError, ValueError, KeyError, zipfile.BadZipFile)


def data_fingerprint(data_dir: Path) -> str:
    """Hash the training files, so a stale model file is noticed."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for path in sorted(data_dir.glob("*.yml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _pipeline() -> Pipeline:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=WORD_NGRAMS,
                    sublinear_tf=True,
                    preprocessor=word_view,
                    token_pattern=TOKEN_PATTERN,
                ),
            ),
        ]
    )
    return Pipeline([("features", features), ("classify", LinearSVC(C=1.0))])


def fit(texts: Sequence[str], intents: Sequence[str]) -> Pipeline:
    """Fit the sklearn pipeline (the training side) on feature texts and their intents."""
    model = _pipeline()
    model.fit(list(texts), list(intents))
    return model


_WHITE_SPACES = re.compile(r"\s\s+")
_TOKEN = re.compile(TOKEN_PATTERN)


def char_ngrams(text: str) -> list[str]:
    """The n-grams of sklearn's ``char_wb`` analyzer: inside space-padded words."""
    low, high = CHAR_NGRAMS
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < size:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


def word_ngrams(text: str) -> list[str]:
    """The n-grams of sklearn's ``word`` analyzer with :func:`word_view`, :data:`TOKEN_PATTERN`."""
    tokens = _TOKEN.findall(word_view(text))
    grams = list(tokens)
    for n in range(2, min(WORD_NGRAMS[1], len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


class Model:
    """The trained classifier as serving needs it: vocabularies, idf weights, SVM weights.

    It computes what the fitted sklearn pipeline's ``decision_function`` computes
    (tf-idf with sublinear tf and an l2 norm per vectorizer, then the linear SVM), without
    sklearn: sklearn costs about 100 MB of memory to import and validates every call
    (about 1 ms a message; this takes a tenth). A test checks the margins against sklearn.
    """

    def __init__(
        self,
        classes: Sequence[str],
        vocabularies: Sequence[Sequence[str]],
        idf: Sequence[np.ndarray],
        weights: np.ndarray,
        intercept: np.ndarray,
    ) -> None:
        self.classes = list(classes)
        # Half precision: 3.3 instead of 6.7 MiB for 54,666 features x 32 intents, and
        # a margin moves by at most 5e-4 (0.00052 over the 3,958 texts of nlu_data/ and
        # 500 English sentences; no best intent changed). Margins are summed in float64.
        self.weights = np.ascontiguousarray(weights, dtype=np.float16)  # features x classes
        self.intercept = np.asarray(intercept, dtype=np.float64)
        # Each analyzer's terms map to their row of ``weights`` (the vectorizers' features
        # side by side, as FeatureUnion puts them); one idf vector for all the rows.
        self._analyzers: list[tuple[Callable[[str], list[str]], dict[str, int]]] = []
        offset = 0
        for analyze, terms in zip(ANALYZERS, vocabularies, strict=True):
            self._analyzers.append((analyze, {t: offset + i for i, t in enumerate(terms)}))
            offset += len(terms)
        self._idf = np.concatenate([np.asarray(values, dtype=np.float64) for values in idf])
        # The padding's blank n-grams: every word has them, so they are no evidence.
        self._blank = frozenset(
            row
            for _, vocabulary in self._analyzers
            for term, row in vocabulary.items()
            if not term.strip()
        )

    @property
    def terms(self) -> list[list[str]]:
        """Each analyzer's terms in row order (its dictionary's order: no second copy)."""
        return [list(vocabulary) for _, vocabulary in self._analyzers]

    @property
    def idf(self) -> list[np.ndarray]:
        """Each analyzer's idf weights (views of the one vector ``margins`` reads)."""
        ends = np.cumsum([len(vocabulary) for _, vocabulary in self._analyzers])[:-1]
        return np.split(self._idf, ends)

    @classmethod
    def from_pipeline(cls, model: Pipeline) -> Model:
        """Take the fitted vocabularies and weights out of the sklearn pipeline."""
        vectorizers = [v for _, v in model.named_steps["features"].transformer_list]
        classifier = model.named_steps["classify"]
        vocabularies = []
        for vectorizer in vectorizers:
            terms = [""] * len(vectorizer.vocabulary_)
            for term, index in vectorizer.vocabulary_.items():
                terms[index] = term
            vocabularies.append(terms)
        return cls(
            [str(c) for c in classifier.classes_],
            vocabularies,
            [v.idf_ for v in vectorizers],
            classifier.coef_.T,
            classifier.intercept_,
        )

    def margins(self, text: str) -> np.ndarray:
        """The SVM's margin for each class (as ``decision_function`` gives them)."""
        return self._read(text)[0]

    def evidence(self, text: str) -> np.ndarray | None:
        """The margins, or ``None`` when the text has no known term (a blank one aside).

        Without one, the margins are the intercepts (and the padding's weight): the
        likeliest intent a priori, read with confidence ("😀" was a goodbye), not a
        reading of the message.
        """
        margins, known = self._read(text)
        return margins if known else None

    def _read(self, text: str) -> tuple[np.ndarray, bool]:
        """The margins, and whether a term of the text other than a blank one is known.

        The known terms of both analyzers are gathered first, then weighted, normalised
        per analyzer and multiplied in one pass: a handful of NumPy calls per message,
        whatever its length.
        """
        rows: list[int] = []
        counts: list[int] = []
        ends: list[int] = []
        for analyze, vocabulary in self._analyzers:
            row_of = vocabulary.get
            for term, count in Counter(analyze(text)).items():
                row = row_of(term)
                if row is not None:
                    rows.append(row)
                    counts.append(count)
            ends.append(len(rows))
        if not rows:
            return self.intercept.copy(), False
        index = np.array(rows, dtype=np.intp)
        values = np.log(np.array(counts, dtype=np.float64))  # sublinear tf: 1 + log(count)
        values += 1.0
        values *= self._idf[index]
        start = 0
        for end in ends:  # l2 norm per vectorizer
            if end > start:
                part = values[start:end]
                part /= math.sqrt(float(part @ part))
            start = end
        rows_of_weights = self.weights.take(index, axis=0).astype(np.float64)
        margins = np.asarray(self.intercept + values @ rows_of_weights)
        # rows are distinct: more of them than blank terms means one is not blank
        return margins, len(rows) > len(self._blank) or not self._blank.issuperset(rows)

    def save(self, path: Path, fingerprint: str) -> None:
        """Write the model to ``path`` (NumPy's zip of arrays; terms as JSON, no pickle)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT,
            "fingerprint": fingerprint,
            "classes": self.classes,
            "terms": self.terms,
        }
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            np.savez(
                out,
                meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8),
                idf_chars=self.idf[0],
                idf_words=self.idf[1],
                weights=self.weights,
                intercept=self.intercept,
            )
        partial.replace(path)  # never a half-written model for another process to read

    @staticmethod
    def _current_meta(data: Any, fingerprint: str) -> dict[str, Any] | None:
        """The meta entry of an open model file; ``None`` when the model is stale."""
        meta: dict[str, Any] = json.loads(data["meta"].tobytes().decode())
        if meta.get("format") != FORMAT or meta.get("fingerprint") != fingerprint:
            return None
        return meta

    @classmethod
    def is_current(cls, path: Path, fingerprint: str) -> bool:
        """Whether the model at ``path`` can be read and is not stale (its meta entry only)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls._current_meta(data, fingerprint) is not None
        except _UNREADABLE:
            return False

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> Model | None:
        """Read the model at ``path``; ``None`` when missing, unreadable or stale."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = cls._current_meta(data, fingerprint)
                if meta is None:
                    return None
                return cls(
                    meta["classes"],
                    meta["terms"],
                    [data["idf_chars"], data["idf_words"]],
                    data["weights"],
                    data["intercept"],
                )
        except _UNREADABLE:
            return None


ANALYZERS: tuple[Callable[[str], list[str]], ...] = (char_ngrams, word_ngrams)


class EmbeddedNlu:
    """The default NLU backend: an n-gram classifier trained from Rasa YAML."""

    def __init__(self, model: Model, threshold: float, fingerprint: str = "") -> None:
        self._model = model
        self._classes: Sequence[str] = model.classes
        self.threshold = threshold
        self.fingerprint = fingerprint

    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        threshold: float = 0.5,
        fingerprint: str = "",
        progress: Callable[[str], None] | None = None,
    ) -> EmbeddedNlu:
        """Fit a model on ``examples`` (sklearn is imported for training only)."""
        if progress:
            progress("features")
        pipeline = fit([features_text(e.text) for e in examples], [e.intent for e in examples])
        if progress:
            progress("fitted")
        return cls(Model.from_pipeline(pipeline), threshold, fingerprint)

    def save(self, path: Path) -> None:
        """Write the model to ``path``."""
        self._model.save(path, self.fingerprint)

    @staticmethod
    def is_current(path: Path, data_dir: Path) -> bool:
        """Whether the model at ``path`` exists and was trained on ``data_dir`` as it is."""
        return Model.is_current(path, data_fingerprint(data_dir))

    @classmethod
    def load_or_train(cls, path: Path, data_dir: Path, threshold: float) -> EmbeddedNlu:
        """Load the model at ``path``; train and save it when missing or stale."""
        fingerprint = data_fingerprint(data_dir)
        model = Model.load(path, fingerprint) if path.exists() else None
        if model is not None:
            return cls(model, threshold, fingerprint)
        nlu = cls.train(load_examples(data_dir), threshold, fingerprint)
        nlu.save(path)
        return nlu

    def predict(self, text: str) -> Parse:
        """Classify one message (synchronously)."""
        margins = self._model.evidence(features_text(text))
        if margins is None:  # not a word the model knows: nothing understood
            return Parse(None, 0.0, (), extract(text))
        confidences = 1.0 / (1.0 + np.exp(-MARGIN_SCALE * (margins + MARGIN_OFFSET)))
        best_first = np.argsort(-confidences, kind="stable")[:5]  # ties: in class order
        ranking = tuple((self._classes[i], float(confidences[i])) for i in best_first)
        best, confidence = ranking[0]
        intent = best if confidence >= self.threshold else None
        return Parse(intent, confidence, ranking, extract(text))

    async def parse(self, text: str, language: str) -> Parse:
        """Classify one message; the language is not needed by this model."""
        return self.predict(text)
