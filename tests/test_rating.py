"""Reading a 1-5 rating and its comment from the customer's message."""

from __future__ import annotations

import pytest

from bot.handoff.rating import parse_score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", (5, None)),
        ("4 very helpful", (4, "very helpful")),
        ("3/5 slow but fine", (3, "slow but fine")),
        ("５", (5, None)),
        ("4점 친절했어요", (4, "친절했어요")),
        ("5分，很满意", (5, "很满意")),
        ("2 из 5, долго", (2, "долго")),
        ("1. Niemand hat geantwortet", (1, "Niemand hat geantwortet")),
        ("6", None),
        ("0 stars", None),
        ("45 minutes is too long", None),
        ("ORD20240001", None),
        ("great", None),
    ],
)
def test_scores_and_comments(text: str, expected: tuple[int, str | None] | None) -> None:
    assert parse_score(text) == expected
