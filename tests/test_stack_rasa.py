"""compose.yaml's Rasa profile in real containers: the two app containers with
``NLU_BACKEND=rasa`` and the Rasa server, trained on nlu_data/ at its start.

Run by ``scripts/compose-stack --test`` after tests/test_stack.py, once it has started the
profile and Rasa is healthy; the default test run skips these (marker ``docker``).
Which NLU parsed a message is read from each app container's own ``/metrics``.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.processes import say, wait_for
from tests.test_stack import APPS, compose, conversation, inspect, lb  # noqa: F401

pytestmark = pytest.mark.docker

# (text, the intent Rasa gives it, the reply's language); tests/test_rasa_server.py
# checks the same parses against a Rasa server outside containers.
MESSAGES = [
    ("Wie lautet die Telefonnummer der Hotline?", "faq_hotline", "de"),
    ("What is your email address?", "faq_contact_email", "en"),
    ("How much import duty will I have to pay?", "refuse_tax", "en"),
    ("감사합니다", "thanks", "ko"),
]

READ_METRICS = (
    "import urllib.request; "
    "print(urllib.request.urlopen('http://127.0.0.1:8000/metrics', timeout=10).read().decode())"
)


def parses(service: str) -> dict[str, float]:
    """An app container's parse counts by NLU backend, and its fallbacks to the embedded NLU."""
    text = compose("exec", "-T", service, "/opt/venv/bin/python", "-c", READ_METRICS)
    counts = {
        backend: float(value)
        for backend, value in re.findall(
            r'^xoobay_nlu_parse_seconds_count\{backend="(\w+)"\} (\S+)$', text, re.M
        )
    }
    fallbacks = re.search(r"^xoobay_nlu_fallbacks_total (\S+)$", text, re.M)
    assert fallbacks is not None, text
    counts["fallbacks"] = float(fallbacks[1])
    return counts


def all_parses() -> dict[str, dict[str, float]]:
    return {service: parses(service) for service in APPS}


def grew(before: dict[str, float], after: dict[str, float], key: str) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_both_apps_parse_with_the_rasa_container(lb: str) -> None:  # noqa: F811
    assert inspect("rasa", "{{.State.Health.Status}}") == "healthy"
    before = all_parses()
    created = conversation(lb)
    for text, intent, language in MESSAGES * 2:  # nginx takes turns: each app gets some
        replies = say(lb, created, text)
        assert replies[0]["intent"] == intent, (text, replies)
        assert replies[0]["language"] == language, (text, replies)
    after = all_parses()
    for service in APPS:
        assert grew(before[service], after[service], "RasaNlu") >= 1, (service, after)
        assert grew(before[service], after[service], "fallbacks") == 0, (service, after)
    assert sum(grew(before[s], after[s], "RasaNlu") for s in APPS) == len(MESSAGES) * 2


def test_with_rasa_stopped_the_apps_answer_from_their_own_nlu_then_use_rasa_again(
    lb: str,  # noqa: F811
) -> None:
    compose("stop", "rasa")
    try:
        before = all_parses()
        created = conversation(lb)
        for text, intent, language in MESSAGES:
            started = time.monotonic()
            replies = say(lb, created, text)
            # Rasa's container is gone: the app falls back within RASA_TIMEOUT (2 s)
            assert time.monotonic() - started < 5, text
            assert replies[0]["intent"] == intent, (text, replies)
            assert replies[0]["language"] == language, (text, replies)
        after = all_parses()
        assert sum(grew(before[s], after[s], "fallbacks") for s in APPS) == len(MESSAGES)
        assert sum(grew(before[s], after[s], "EmbeddedNlu") for s in APPS) == len(MESSAGES)
    finally:
        compose("start", "rasa")
    # The model is kept in its volume: Rasa starts without training, and the apps, never
    # restarted, parse with it again.
    wait_for(lambda: inspect("rasa", "{{.State.Health.Status}}") == "healthy", timeout=300)
    before = all_parses()
    for text, intent, _ in MESSAGES:
        assert say(lb, created, text)[0]["intent"] == intent
    after = all_parses()
    assert sum(grew(before[s], after[s], "RasaNlu") for s in APPS) == len(MESSAGES)
    assert sum(grew(before[s], after[s], "fallbacks") for s in APPS) == 0
    for service in APPS:
        assert inspect(service, "{{.RestartCount}}") == "0"
