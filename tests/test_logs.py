"""Personal data in logs: emails and phone numbers are masked."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest

from bot.logs import FORMAT, MaskingFormatter, mask
from tests.processes import BotProcess


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail from jane.doe@example.com failed", "mail from j***@example.com failed"),
        ("GET /x?mail=jane.doe%40example.com HTTP/1.1", "GET /x?mail=j***@example.com HTTP/1.1"),
        ("call +852 9195 0500 now", "call +852****0500 now"),
        ("phone 13812345678", "phone 138****5678"),
        ("order ORD2024001234 shipped", "order ORD2024001234 shipped"),
        ("at 08:00-24:00, 24 h", "at 08:00-24:00, 24 h"),
    ],
)
def test_mask(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_the_formatter_masks_formatted_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    caplog.handler.setFormatter(MaskingFormatter(FORMAT))
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("verification failed for %s / %s", "kim@example.kr", "+82 10-1234-5678")
    assert "kim@example.kr" not in caplog.text and "1234-5678" not in caplog.text
    assert "k***@example.kr" in caplog.text and "+82****5678" in caplog.text


def test_the_formatter_masks_a_traceback_too(caplog: pytest.LogCaptureFixture) -> None:
    """An error's text may quote what a customer wrote; its traceback is masked as well."""
    logger = logging.getLogger("test.masking")
    caplog.handler.setFormatter(MaskingFormatter(FORMAT))
    with caplog.at_level(logging.INFO, logger="test.masking"):
        try:
            raise ValueError("could not store 'my mail is jane.doe@example.com, +852 9195 0500'")
        except ValueError:
            logger.exception("storing failed")
    assert "Traceback" in caplog.text and "ValueError: could not store" in caplog.text
    assert "jane.doe@example.com" not in caplog.text and "9195 0500" not in caplog.text
    assert "j***@example.com" in caplog.text and "+852****0500" in caplog.text


def test_serve_writes_uvicorns_lines_through_the_masking_handler(
    nlu_model_path: Path, tmp_path: Path
) -> None:
    """The web server's own log lines (here an access line) are masked like the bot's."""
    bot = BotProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "NLU_MODEL_PATH": str(nlu_model_path),
            "LOG_LEVEL": "INFO",
        }
    )
    try:
        bot.wait_ready()
        answer = httpx.get(f"{bot.url}/healthz", params={"contact": "jane.doe@example.com"})
        assert answer.status_code == 200
        deadline = time.monotonic() + 10
        while "GET /healthz?contact=" not in bot.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        output = bot.output()
        assert "INFO uvicorn.access: " in output  # the bot's format: its handler wrote it
        assert "GET /healthz?contact=j***@example.com" in output
        assert "jane.doe@example.com" not in output
    finally:
        bot.stop()
