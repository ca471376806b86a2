"""``python -m bot evaluate``: how well the embedded NLU understands, per language and intent.

A held-out split (20 %, stratified by locale and intent, seeded) and a k-fold
cross-validation; a report in Markdown and a confusion matrix in HTML. The guard is
measured too: refusal recall (out-of-scope messages refused) and false refusals
(in-scope messages refused).
"""

from __future__ import annotations

import html
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import guard
from bot.nlu.data import Example
from bot.nlu.embedded import EmbeddedNlu


@dataclass(frozen=True, slots=True)
class Outcome:
    """One held-out example and what was predicted."""

    example: Example
    predicted: str | None
    refused: bool


def split(
    examples: Sequence[Example], share: float = 0.2, seed: int = 7
) -> tuple[list[Example], list[Example]]:
    """Return (train, test): ``share`` of each (locale, intent) group held out."""
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.locale, example.intent)].append(example)
    rng = random.Random(seed)
    train, test = [], []
    for key in sorted(groups):
        items = sorted(groups[key], key=lambda e: e.text)
        rng.shuffle(items)
        cut = max(1, round(len(items) * share))
        test.extend(items[:cut])
        train.extend(items[cut:])
    return train, test


def folds(examples: Sequence[Example], k: int = 5, seed: int = 7) -> list[list[Example]]:
    """Split into ``k`` folds, each (locale, intent) group spread evenly."""
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.locale, example.intent)].append(example)
    rng = random.Random(seed)
    parts: list[list[Example]] = [[] for _ in range(k)]
    for key in sorted(groups):
        items = sorted(groups[key], key=lambda e: e.text)
        rng.shuffle(items)
        for index, item in enumerate(items):
            parts[index % k].append(item)
    return parts


def predict(nlu: EmbeddedNlu, test: Sequence[Example]) -> list[Outcome]:
    """Classify each example and ask the guard whether it would be refused."""
    outcomes = []
    for example in test:
        parse = nlu.predict(example.text)
        refused = bool(guard.check(parse, example.text).refusals)
        outcomes.append(Outcome(example, parse.intent, refused))
    return outcomes


def f1_scores(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """Return F1 per true intent."""
    true_positive: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    for outcome in outcomes:
        actual[outcome.example.intent] += 1
        if outcome.predicted:
            predicted[outcome.predicted] += 1
        if outcome.predicted == outcome.example.intent:
            true_positive[outcome.example.intent] += 1
    scores = {}
    for intent in actual:
        precision = true_positive[intent] / predicted[intent] if predicted[intent] else 0.0
        recall = true_positive[intent] / actual[intent]
        total = precision + recall
        scores[intent] = 2 * precision * recall / total if total else 0.0
    return scores


def accuracy(outcomes: Sequence[Outcome]) -> float:
    """Share of outcomes whose predicted intent is the true one."""
    return sum(o.predicted == o.example.intent for o in outcomes) / max(1, len(outcomes))


def refusal_rates(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    """Return (refusal recall, false-refusal rate) over the outcomes."""
    out = [o for o in outcomes if o.example.intent in guard.REFUSAL_INTENTS]
    inside = [o for o in outcomes if o.example.intent not in guard.REFUSAL_INTENTS]
    recall = sum(o.refused for o in out) / max(1, len(out))
    false = sum(o.refused for o in inside) / max(1, len(inside))
    return recall, false


def by_locale(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    """Group outcomes by the example's locale."""
    grouped: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[outcome.example.locale].append(outcome)
    return dict(sorted(grouped.items()))


def confusion_html(outcomes: Sequence[Outcome]) -> str:
    """Render the confusion matrix (true intent by row) as a standalone HTML page."""
    labels = sorted(
        {o.example.intent for o in outcomes} | {o.predicted or "(none)" for o in outcomes}
    )
    counts = Counter((o.example.intent, o.predicted or "(none)") for o in outcomes)
    rows = []
    for true in labels:
        total = sum(counts[(true, p)] for p in labels) or 1
        cells = []
        for guess in labels:
            n = counts[(true, guess)]
            shade = int(255 - 200 * n / total)
            colour = f"rgb({shade},{shade},255)" if true == guess else f"rgb(255,{shade},{shade})"
            cells.append(f'<td style="background:{colour}">{n or ""}</td>')
        rows.append(f"<tr><th>{html.escape(true)}</th>{''.join(cells)}</tr>")
    head = "".join(f'<th class="v">{html.escape(label)}</th>' for label in labels)
    return (
        "<!doctype html><meta charset=utf-8><title>NLU confusion matrix</title>"
        "<style>td,th{border:1px solid #ccc;padding:2px 4px;font:12px sans-serif;text-align:center}"
        "th.v{writing-mode:vertical-rl}</style>"
        f"<h1>Confusion matrix (held-out, rows: true intent)</h1><table><tr><th></th>{head}</tr>"
        f"{''.join(rows)}</table>"
    )


def write_report(
    directory: Path, held_out: Sequence[Outcome], cross: Sequence[float], train_seconds: float
) -> Path:
    """Write ``nlu-report.md`` and ``nlu-confusion.html`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    recall, false = refusal_rates(held_out)
    lines = [
        "# NLU evaluation (embedded)",
        "",
        f"Held-out accuracy: {accuracy(held_out):.3f} on {len(held_out)} examples; "
        f"training took {train_seconds:.1f} s.",
        f"Cross-validation ({len(cross)} folds): accuracy "
        + ", ".join(f"{a:.3f}" for a in cross)
        + f" (mean {sum(cross) / max(1, len(cross)):.3f}).",
        f"Refusal recall {recall:.3f}; false refusals {false:.3f}.",
        "",
        "| locale | examples | accuracy | macro-F1 |",
        "|---|---|---|---|",
    ]
    for locale, outcomes in by_locale(held_out).items():
        scores = f1_scores(outcomes)
        macro = sum(scores.values()) / max(1, len(scores))
        lines.append(f"| {locale} | {len(outcomes)} | {accuracy(outcomes):.3f} | {macro:.3f} |")
    lines += ["", "| intent | F1 |", "|---|---|"]
    for intent, score in sorted(f1_scores(held_out).items()):
        lines.append(f"| {intent} | {score:.3f} |")
    report = directory / "nlu-report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "nlu-confusion.html").write_text(confusion_html(held_out), encoding="utf-8")
    return report
