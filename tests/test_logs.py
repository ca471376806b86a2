"""Personal data in logs: emails and phone numbers are masked."""

from __future__ import annotations

import logging

import pytest

from bot.logs import MaskingFilter, mask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail from jane.doe@example.com failed", "mail from j***@example.com failed"),
        ("call +852 9195 0500 now", "call +852****0500 now"),
        ("phone 13812345678", "phone 138****5678"),
        ("order ORD2024001234 shipped", "order ORD2024001234 shipped"),
        ("at 08:00-24:00, 24 h", "at 08:00-24:00, 24 h"),
    ],
)
def test_mask(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_the_filter_masks_formatted_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("verification failed for %s / %s", "kim@example.kr", "+82 10-1234-5678")
    assert "kim@example.kr" not in caplog.text and "1234-5678" not in caplog.text
    assert "k***@example.kr" in caplog.text and "+82****5678" in caplog.text
