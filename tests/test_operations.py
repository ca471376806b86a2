"""Operations endpoints: liveness, readiness and Prometheus metrics, over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import make_url

from bot.config import Settings
from tests.conftest import POSTGRES_URL, serving
from tests.processes import BotProcess


def test_healthz_and_readyz_answer_when_the_database_is_there(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server}/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_readyz_says_503_when_the_database_is_down(settings: Settings, parts) -> None:  # type: ignore[no-untyped-def]
    with serving(settings, parts) as url:
        down = replace(settings, database_url="postgresql://postgres@127.0.0.1:1/none")
        with serving(down, parts, migrate=False) as down_url:
            answer = httpx.get(f"{down_url}/readyz", timeout=10)
            assert answer.status_code == 503
            assert answer.json() == {"status": "unavailable", "database": "unreachable"}
            created = httpx.post(f"{down_url}/api/v1/conversations", timeout=10)
            assert created.status_code == 503 and created.json()["error"]["code"] == "unavailable"
        assert httpx.get(f"{url}/readyz").status_code == 200


def test_metrics_count_messages_intents_refusals_and_latencies(server: str) -> None:
    created = httpx.post(f"{server}/api/v1/conversations").json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    for text in (
        "What is the support email?",
        "How much import duty will I pay?",
        "I want to talk to a person",
    ):
        sent = httpx.post(
            f"{server}/api/v1/conversations/{created['id']}/messages",
            json={"text": text},
            headers=headers,
        )
        assert sent.status_code == 200
    page = httpx.get(f"{server}/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    body = page.text
    assert 'xoobay_messages_total{channel="web",language="en"}' in body
    assert 'xoobay_intents_total{intent="faq_contact_email"}' in body
    assert 'xoobay_refusals_total{reason="refuse_tax"}' in body
    assert "xoobay_language_detection_seconds_count" in body
    assert 'xoobay_nlu_parse_seconds_count{backend="EmbeddedNlu"}' in body
    assert 'xoobay_handoffs_total{priority="regular"}' in body
    assert 'xoobay_queue_length{priority="regular"} 1.0' in body
    assert "xoobay_sla_breaches 0.0" in body


def test_serve_refuses_to_start_when_the_database_cannot_be_migrated(nlu_model_path: Path) -> None:
    bot = BotProcess(
        {
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
            "NLU_MODEL_PATH": str(nlu_model_path),
        }
    )
    try:
        assert bot.process.wait(timeout=60) == 1
        output = bot.output()
        assert "migrating the database failed (exit code 2)" in output
        # the migration's own words, without a traceback
        assert "database error: connection failed" in output and "Traceback" not in output
    finally:
        bot.stop()


@pytest.mark.postgres
def test_a_database_not_in_utf8_is_refused_with_what_to_do() -> None:
    """A SQL_ASCII database (initdb under the C locale) cannot hold five languages' text."""
    name = f"ascii_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(
            f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' TEMPLATE template0 "
            "LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    try:
        url = str(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
        result = subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert f"the database '{name}' is encoded in SQL_ASCII, not UTF8" in result.stderr
        assert "ENCODING 'UTF8'" in result.stderr and "Traceback" not in result.stderr
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name}")


def test_serve_trains_a_missing_model_in_another_process(tmp_path: Path) -> None:
    """The first start trains the NLU, but scikit-learn never loads in the serving process."""
    model = tmp_path / "model.npz"
    bot = BotProcess(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "NLU_MODEL_PATH": str(model)}
    )
    try:
        bot.wait_ready(timeout=180)
        assert model.exists()
        mapped = Path(f"/proc/{bot.process.pid}/maps").read_text()
        assert "site-packages/numpy" in mapped  # the check below can see a library
        assert "site-packages/sklearn" not in mapped and "site-packages/scipy" not in mapped
        created = httpx.post(f"{bot.url}/api/v1/conversations", timeout=30).json()
        answer = httpx.post(
            f"{bot.url}/api/v1/conversations/{created['id']}/messages",
            headers={"Authorization": f"Bearer {created['token']}"},
            json={"text": "What is the support email?"},
            timeout=30,
        )
        assert answer.json()["replies"][0]["intent"] == "faq_contact_email"
    finally:
        bot.stop()


def test_serve_refuses_to_start_when_the_nlu_cannot_be_trained(tmp_path: Path) -> None:
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "broken.yml").write_text("nlu: [", encoding="utf-8")
    bot = BotProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "NLU_MODEL_PATH": str(tmp_path / "model.npz"),
            "NLU_DATA_DIR": str(tmp_path / "nlu"),
        }
    )
    try:
        assert bot.process.wait(timeout=120) == 1
        assert "training the NLU failed" in bot.output()
    finally:
        bot.stop()
