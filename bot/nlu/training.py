"""``python -m bot train``: fit the embedded NLU on ``nlu_data/`` and save it."""

from __future__ import annotations

import time

from tqdm import tqdm

from bot.config import Settings
from bot.nlu.data import load_examples
from bot.nlu.embedded import EmbeddedNlu, data_fingerprint


def train_and_save(settings: Settings) -> EmbeddedNlu:
    """Train on every example in ``settings.nlu_data_dir``; save to the model path."""
    started = time.perf_counter()
    with tqdm(total=4, desc="train", unit="step") as bar:
        bar.set_postfix_str("loading data")
        examples = load_examples(settings.nlu_data_dir)
        bar.update()

        def progress(stage: str) -> None:
            bar.set_postfix_str(stage)
            bar.update()

        nlu = EmbeddedNlu.train(
            examples,
            settings.nlu_threshold,
            data_fingerprint(settings.nlu_data_dir),
            progress=progress,
        )
        bar.set_postfix_str("saving")
        nlu.save(settings.nlu_model_path)
        bar.update()
    intents = len({e.intent for e in examples})
    print(
        f"trained on {len(examples)} examples, {intents} intents, in "
        f"{time.perf_counter() - started:.1f} s; saved to {settings.nlu_model_path}"
    )
    return nlu
