"""Benchmark of language identification: this project's detector, langdetect and lingua.

Usage: ``.venv/bin/python benchmarks/langid.py [--data DIR]`` (default: the shared data set,
``../shared/data/langid`` beside the repository). Prints accuracy per category and language,
detections per second over the whole set (single thread, after a warm-up) and a check of
Simplified vs Traditional Chinese. Plain text, no assertions.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import hanzidentifier
from langdetect import DetectorFactory, LangDetectException
from langdetect import detect as langdetect_detect
from lingua import Language, LanguageDetectorBuilder

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.langid import LanguageDetector  # noqa: E402

CATEGORIES = ("sentences", "word-pairs", "single-words")
LANGUAGES = ("en", "de", "ru", "zh", "ko")
WARM_UP = 300
SIMPLIFIED = ("我想查询一下我的订单状态。", "这个商品什么时候发货？", "请问怎么申请退款？")
TRADITIONAL = ("我想查詢一下我的訂單狀態。", "這個商品什麼時候發貨？", "請問怎麼申請退款？")

Sample = tuple[str, str, str]  # category, language, text
Detect = Callable[[str], str | None]


def load(data: Path) -> list[Sample]:
    """Every line of the data set as (category, language, text)."""
    samples = []
    for category in CATEGORIES:
        for language in LANGUAGES:
            path = data / category / f"{language}.txt"
            lines = path.read_text(encoding="utf-8").splitlines()
            samples += [(category, language, line) for line in lines if line.strip()]
    return samples


def ours() -> Detect:
    detector = LanguageDetector()

    def detect(text: str) -> str | None:
        language = detector.detect(text).language
        return "zh" if language in ("zh-Hans", "zh-Hant") else language

    return detect


def langdetect() -> Detect:
    DetectorFactory.seed = 0
    names = {"zh-cn": "zh", "zh-tw": "zh"}

    def detect(text: str) -> str | None:
        try:
            code = str(langdetect_detect(text))
        except LangDetectException:
            return None
        code = names.get(code, code)
        return code if code in LANGUAGES else None

    return detect


def lingua() -> Detect:
    languages = [Language.ENGLISH, Language.GERMAN, Language.RUSSIAN]
    languages += [Language.CHINESE, Language.KOREAN]
    detector = LanguageDetectorBuilder.from_languages(*languages)
    built = detector.with_preloaded_language_models().build()

    def detect(text: str) -> str | None:
        language = built.detect_language_of(text)
        return None if language is None else language.iso_code_639_1.name.lower()

    return detect


def run(detect: Detect, samples: Sequence[Sample]) -> tuple[list[str | None], float]:
    """Verdicts on every sample, and detections per second (after a warm-up)."""
    for _, _, text in samples[:: max(1, len(samples) // WARM_UP)]:
        detect(text)
    start = time.perf_counter()
    verdicts = [detect(text) for _, _, text in samples]
    return verdicts, len(samples) / (time.perf_counter() - start)


def table(name: str, samples: Sequence[Sample], verdicts: Sequence[str | None]) -> None:
    right: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    for (category, language, _), verdict in zip(samples, verdicts, strict=True):
        for key in ((category, language), (category, "all")):
            total[key] += 1
            right[key] += verdict == language
    print(f"\n{name}")
    print(f"  {'category':<14}" + "".join(f"{lang:>8}" for lang in (*LANGUAGES, "overall")))
    for category in CATEGORIES:
        keys = [(category, lang) for lang in (*LANGUAGES, "all")]
        cells = [f"{right[key] / total[key]:>8.2%}" if total[key] else "" for key in keys]
        print(f"  {category:<14}" + "".join(cells))


def chinese_check(samples: Sequence[Sample]) -> None:
    detector = LanguageDetector()
    print("\nSimplified / Traditional Chinese")
    for expected, texts in (("zh-Hans", SIMPLIFIED), ("zh-Hant", TRADITIONAL)):
        got = [detector.detect(text).language for text in texts]
        print(f"  known {expected} sentences: {sum(g == expected for g in got)}/{len(got)} right")
    for category in CATEGORIES:
        lines = [text for cat, lang, text in samples if cat == category and lang == "zh"]
        ours_count: Counter[str] = Counter()
        for text in lines:
            found = detector.detect(text)
            ours_count["ambiguous" if found.ambiguous_script else str(found.language)] += 1
        kinds = {hanzidentifier.SIMPLIFIED: "Hans", hanzidentifier.TRADITIONAL: "Hant"}
        kinds |= {hanzidentifier.BOTH: "both", hanzidentifier.MIXED: "mixed"}
        theirs = Counter(kinds.get(hanzidentifier.identify(text), "none") for text in lines)
        print(
            f"  zh {category}: ours zh-Hans {ours_count['zh-Hans']}, zh-Hant "
            f"{ours_count['zh-Hant']}, ambiguous (zh-Hans) {ours_count['ambiguous']}, "
            f"other {len(lines) - sum(ours_count[k] for k in ('zh-Hans', 'zh-Hant', 'ambiguous'))}"
            f" | hanzidentifier: {dict(theirs)}"
        )


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def footprint() -> None:
    """Construction time and resident memory of this project's detector (run first)."""
    before = rss_mb()
    started = time.perf_counter()
    LanguageDetector()
    print(
        f"this project's detector: built in {time.perf_counter() - started:.2f} s, "
        f"process RSS {before:.0f} MB before, {rss_mb():.0f} MB after"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "langid")
    args = parser.parse_args(argv)
    footprint()
    samples = load(args.data)
    print(f"{len(samples)} samples from {args.data}")
    speeds = {}
    for name, factory in (
        ("this project (bot.langid)", ours),
        ("langdetect 1.0.9 (seeded, output mapped to the 5 languages)", langdetect),
        ("lingua (high accuracy, restricted to the 5 languages)", lingua),
    ):
        verdicts, speeds[name] = run(factory(), samples)
        table(name, samples, verdicts)
    print("\ndetections per second (whole set, single thread, after warm-up)")
    for name, speed in speeds.items():
        print(f"  {speed:>10,.0f}  {name}")
    chinese_check(samples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
