"""Prometheus metrics of one app process, served at ``/metrics``.

Counters and histograms are kept per process (Prometheus scrapes every process and sums);
gauges of shared state (the handoff queue) are read from the database at scrape time, so
every process reports the same queue.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

_FAST = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

MESSAGES = Counter(
    "xoobay_messages", "Customer messages handled by the pipeline.", ["channel", "language"]
)
INTENTS = Counter("xoobay_intents", "Intents the bot acted on.", ["intent"])
REPLIES = Counter("xoobay_replies", "Bot replies by action.", ["action"])
REFUSALS = Counter("xoobay_refusals", "Out-of-scope refusals.", ["reason"])
HANDOFFS = Counter("xoobay_handoffs", "Conversations handed to the human queue.", ["priority"])
DETECTION_SECONDS = Histogram(
    "xoobay_language_detection_seconds", "Language detection time per message.", buckets=_FAST
)
NLU_SECONDS = Histogram(
    "xoobay_nlu_parse_seconds", "NLU parse time per message.", ["backend"], buckets=_FAST
)
NLU_FALLBACKS = Counter(
    "xoobay_nlu_fallbacks", "Parses that fell back to the embedded NLU (Rasa unreachable)."
)
QUEUE_LENGTH = Gauge("xoobay_queue_length", "Tickets waiting for an agent.", ["priority"])
SLA_BREACHES = Gauge("xoobay_sla_breaches", "Open tickets past their SLA deadline.")


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
