"""The ``evaluate`` command: held-out split, cross-validation, report files."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tqdm import tqdm

from bot.config import Settings
from bot.nlu.data import load_examples
from bot.nlu.embedded import EmbeddedNlu
from bot.nlu.evaluation import (
    OPEN_DOMAIN,
    accuracy,
    folds,
    joined,
    load_open_domain,
    open_domain,
    predict,
    split,
    write_report,
)


def evaluate(settings: Settings, out_dir: Path, k: int = 5) -> Path:
    """Evaluate the embedded NLU on ``settings.nlu_data_dir``; return the report's path."""
    examples = load_examples(settings.nlu_data_dir)
    train, test = split(examples)
    started = time.perf_counter()
    nlu = EmbeddedNlu.train(train, settings.nlu_threshold)
    train_seconds = time.perf_counter() - started
    held_out = predict(nlu, test)
    cross = []
    parts = folds(examples, k)
    for index in tqdm(range(k), desc="cross-validation", unit="fold"):
        rest = [e for j, part in enumerate(parts) if j != index for e in part]
        fold_nlu = EmbeddedNlu.train(rest, settings.nlu_threshold)
        cross.append(accuracy(predict(fold_nlu, parts[index])))
    pairs = asyncio.run(joined(nlu, test))
    unseen = None
    if OPEN_DOMAIN.exists():  # beside the checkout's tests; an image has no tests/
        unseen = asyncio.run(open_domain(nlu, load_open_domain()))
    report = write_report(out_dir, held_out, cross, train_seconds, pairs, unseen)
    print(report.read_text(encoding="utf-8"))
    print(f"report: {report}; confusion matrix: {out_dir / 'nlu-confusion.html'}")
    return report
