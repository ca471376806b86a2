"""Reading the training data in ``nlu_data/`` (Rasa 3.x YAML, one file per locale)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")


@dataclass(frozen=True, slots=True)
class Example:
    """One training sentence: its text (annotations removed), intent and locale."""

    text: str
    intent: str
    locale: str


def strip_annotations(example: str) -> str:
    """Turn ``where is [ORD1](order_number)`` into ``where is ORD1``."""
    return _ANNOTATION.sub(r"\1", example)


def load_examples(data_dir: Path) -> list[Example]:
    """Load every intent example of every ``*.yml`` file; the file stem is the locale.

    Raises:
        FileNotFoundError: ``data_dir`` holds no YAML files.
        ValueError: A file is not Rasa NLU YAML.
    """
    import yaml  # only training reads YAML: a serving process loads the saved model

    files = sorted(data_dir.glob("*.yml"))
    if not files:
        raise FileNotFoundError(f"no NLU data in {data_dir}")
    examples = []
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(document, dict) or not isinstance(document.get("nlu"), list):
            raise ValueError(f"{path}: not Rasa NLU YAML (no 'nlu' list)")
        for item in document["nlu"]:
            if "intent" not in item:
                continue
            for line in str(item.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = strip_annotations(line[2:].strip())
                    examples.append(Example(text, str(item["intent"]), path.stem))
    return examples
