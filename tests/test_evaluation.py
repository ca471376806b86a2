"""``python -m bot evaluate``: the report, and messages that say two things."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import ROOT, Settings
from bot.nlu.data import Example, load_examples
from bot.nlu.evaluate_command import evaluate
from bot.nlu.evaluation import joined_text, split


def test_joined_examples_read_as_two_sentences() -> None:
    first = Example("thanks", "thanks", "en")
    assert joined_text(first, Example("where is my order", "order_status", "en")) == (
        "thanks. where is my order"
    )
    asked = Example("hotline?", "faq_hotline", "en")
    assert joined_text(asked, Example("email", "faq_contact_email", "en")) == "hotline? email"
    chinese = Example("谢谢", "thanks", "zh_Hans")
    question = Example("邮箱是多少", "faq_contact_email", "zh_Hans")
    assert joined_text(chinese, question) == "谢谢。邮箱是多少"


def test_the_report_measures_the_split_the_folds_and_joined_messages(
    settings: Settings, tmp_path: Path
) -> None:
    report = evaluate(settings, tmp_path, k=2).read_text(encoding="utf-8")
    assert (tmp_path / "nlu-confusion.html").exists()
    held_out = re.search(r"Held-out accuracy: (0\.\d+) on (\d+) examples", report)
    assert held_out and float(held_out[1]) > 0.7 and int(held_out[2]) > 500
    both = re.search(r"\((\d+) pairs\): both answered (0\.\d+)", report)
    assert both and int(both[1]) > 250 and float(both[2]) > 0.4, report
    social = re.search(r"the question answered (0\.\d+); read whole (0\.\d+)", report)
    assert social and float(social[1]) > float(social[2]), report
    unseen = re.search(
        r"does not cover \((\d+), none of them trained on\): declined (0\.\d+|1\.0+)", report
    )
    assert unseen and int(unseen[1]) > 140 and float(unseen[2]) > 0.8, report
    assert "| faq_hotline |" in report and "| zh_Hant |" in report


def test_a_group_keeps_its_held_out_examples_when_another_group_grows() -> None:
    examples = load_examples(ROOT / "nlu_data")
    _, before = split(examples)
    grown = [*examples, *(Example(f"tell me fact {n}", "out_of_scope", "en") for n in range(9))]
    _, after = split(grown)

    def others(test: list[Example]) -> list[Example]:
        return [e for e in test if (e.locale, e.intent) != ("en", "out_of_scope")]

    assert others(after) == others(before)
    assert len(after) > len(before)
