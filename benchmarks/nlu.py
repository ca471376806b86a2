"""Benchmark: the embedded NLU against a Rasa 3.6 server (DIET), on the same held-out split.

Both are trained on the same 80 % of nlu_data/ (bot.nlu.evaluation.split) and tested
on the rest. Prints, per backend: intent accuracy and macro-F1 per locale, refusal recall
and false-refusal rate (through the bot's policy guard), p50/p99 parse latency, memory
and training time; held-out examples joined in pairs, read sentence by sentence
(bot/clauses.py, as the bot reads a message with either backend) and whole; and messages
the policy does not cover (tests/data/open_domain.yml): how many each backend declines.

Run: .venv/bin/python benchmarks/nlu.py   (Rasa from .rasa-venv: scripts/rasa-server installs it)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import guard  # noqa: E402
from bot.nlu import Parse  # noqa: E402
from bot.nlu.data import Example, load_examples  # noqa: E402
from bot.nlu.embedded import EmbeddedNlu  # noqa: E402
from bot.nlu.evaluation import (  # noqa: E402
    Joined,
    OpenDomain,
    Outcome,
    accuracy,
    by_locale,
    f1_scores,
    joined,
    load_open_domain,
    open_domain,
    refusal_rates,
    split,
)
from bot.nlu.rasa import RasaNlu  # noqa: E402


def outcome(example: Example, parse: Parse) -> Outcome:
    refused = bool(guard.check(parse, example.text).refusals)
    return Outcome(example, parse.intent, refused)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_mb(pid: int | None = None) -> float:
    path = f"/proc/{pid or os.getpid()}/status"
    for line in Path(path).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def report(
    name: str,
    outcomes: list[Outcome],
    latencies: list[float],
    memory: float,
    train_s: float,
    pairs: Joined,
    unseen: OpenDomain,
) -> None:
    recall, false = refusal_rates(outcomes)
    print(f"\n{name}")
    print(f"  {'locale':8} {'n':>5} {'accuracy':>9} {'macro-F1':>9}")
    for locale, group in by_locale(outcomes).items():
        scores = f1_scores(group)
        macro = sum(scores.values()) / max(1, len(scores))
        print(f"  {locale:8} {len(group):5d} {accuracy(group):9.3f} {macro:9.3f}")
    scores = f1_scores(outcomes)
    print(
        f"  {'all':8} {len(outcomes):5d} {accuracy(outcomes):9.3f} "
        f"{sum(scores.values()) / max(1, len(scores)):9.3f}"
    )
    print(f"  refusal recall {recall:.3f}   false refusals {false:.3f}")
    print(
        f"  parse latency p50 {percentile(latencies, 0.5) * 1000:.2f} ms   "
        f"p99 {percentile(latencies, 0.99) * 1000:.2f} ms"
    )
    print(f"  memory (RSS) {memory:.0f} MB   training {train_s:.1f} s")
    print(
        f"  two questions joined ({pairs.questions} pairs): both answered {pairs.both:.3f}, "
        f"a stray answer {pairs.stray:.3f}; read whole: the first {pairs.whole_first:.3f}, "
        f"the second {pairs.whole_second:.3f}"
    )
    print(
        f"  a thanks or greeting, then a question ({pairs.social} pairs): the question "
        f"answered {pairs.social_answered:.3f}; read whole {pairs.social_whole:.3f}"
    )
    print(
        f"  messages the policy does not cover ({unseen.messages}): declined "
        f"{unseen.declined:.3f}, a policy answer {unseen.answered:.3f}, acted on "
        f"{unseen.acted:.3f}"
    )


def embedded(train: list[Example], test: list[Example]) -> None:
    started = time.perf_counter()
    nlu = EmbeddedNlu.train(train, 0.5)
    train_s = time.perf_counter() - started
    outcomes, latencies = [], []
    for example in test:
        t0 = time.perf_counter()
        parse = nlu.predict(example.text)
        latencies.append(time.perf_counter() - t0)
        outcomes.append(outcome(example, parse))
    report(
        "embedded NLU (in process; RSS of this whole process)",
        outcomes,
        latencies,
        rss_mb(),
        train_s,
        asyncio.run(joined(nlu, test)),
        asyncio.run(open_domain(nlu, load_open_domain())),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_split(train: list[Example], folder: Path) -> Path:
    by_intent: dict[str, list[str]] = {}
    for example in train:
        by_intent.setdefault(example.intent, []).append(example.text)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in sorted(by_intent.items()):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in texts)  # a block scalar: no escaping
    path = folder / "train.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def rasa_parses(
    url: str, test: list[Example]
) -> tuple[list[Outcome], list[float], Joined, OpenDomain]:
    nlu = RasaNlu(httpx.AsyncClient(base_url=url, timeout=30), 0.5)
    outcomes, latencies = [], []
    try:
        for example in test:
            t0 = time.perf_counter()
            parse = await nlu.parse(example.text, example.locale)
            latencies.append(time.perf_counter() - t0)
            outcomes.append(outcome(example, parse))
        pairs = await joined(nlu, test)
        unseen = await open_domain(nlu, load_open_domain())
    finally:
        await nlu.aclose()
    return outcomes, latencies, pairs, unseen


def rasa(train: list[Example], test: list[Example], venv: Path) -> None:
    binary = venv / "bin" / "rasa"
    if not binary.exists():
        print(f"\nRasa: not installed at {venv} (run scripts/rasa-server once); skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = write_split(train, folder)
        started = time.perf_counter()
        subprocess.run(
            [
                str(binary),
                "train",
                "nlu",
                "--nlu",
                str(data),
                "--config",
                str(ROOT / "rasa" / "config.yml"),
                "--out",
                str(folder),
                "--fixed-model-name",
                "bench",
            ],
            check=True,
            capture_output=True,
            # a cache of its own: Rasa's default, .rasa/cache in the working directory, would
            # hand a second run on the same split its trained components (13.6 s, not 408 s)
            env={**os.environ, "RASA_CACHE_DIRECTORY": str(folder / "rasa-cache")},
        )
        train_s = time.perf_counter() - started
        port = free_port()
        server = subprocess.Popen(
            [
                str(binary),
                "run",
                "--enable-api",
                "--model",
                str(folder / "bench.tar.gz"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/status", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(1)
            outcomes, latencies, pairs, unseen = asyncio.run(rasa_parses(url, test))
            report(
                "Rasa 3.6 server, DIET (over HTTP on loopback)",
                outcomes,
                latencies,
                rss_mb(server.pid),
                train_s,
                pairs,
                unseen,
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-venv", default=str(ROOT / ".rasa-venv"))
    parser.add_argument("--skip-rasa", action="store_true")
    args = parser.parse_args()
    examples = load_examples(ROOT / "nlu_data")
    train, test = split(examples)
    print(
        f"{len(examples)} examples: {len(train)} to train, {len(test)} held out "
        f"(maxrss so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
    )
    embedded(train, test)
    if not args.skip_rasa:
        rasa(train, test, Path(args.rasa_venv))


if __name__ == "__main__":
    main()
