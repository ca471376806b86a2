"""``python -m bot evaluate``: how well the embedded NLU understands, per language and intent.

A held-out split (20 %, stratified by locale and intent, seeded) and a k-fold
cross-validation; a report in Markdown and a confusion matrix in HTML. The guard is
measured too: refusal recall (out-of-scope messages refused) and false refusals
(in-scope messages refused). So are messages that say two things (:mod:`bot.clauses`):
held-out examples joined in pairs, two policy questions or a thanks or greeting and then
a question, read sentence by sentence and, for comparison, only whole.
"""

from __future__ import annotations

import html
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import yaml

from bot import clauses, guard
from bot.config import ROOT
from bot.dialogue import DONT_KNOW
from bot.nlu import NluBackend, Parse
from bot.nlu.data import Example
from bot.nlu.embedded import EmbeddedNlu


@dataclass(frozen=True, slots=True)
class Outcome:
    """One held-out example and what was predicted."""

    example: Example
    predicted: str | None
    refused: bool


def split(
    examples: Sequence[Example], share: float = 0.2, seed: int = 7
) -> tuple[list[Example], list[Example]]:
    """Return (train, test): ``share`` of each (locale, intent) group held out."""
    train, test = [], []
    for items in _groups(examples, seed):
        cut = max(1, round(len(items) * share))
        test.extend(items[:cut])
        train.extend(items[cut:])
    return train, test


def folds(examples: Sequence[Example], k: int = 5, seed: int = 7) -> list[list[Example]]:
    """Split into ``k`` folds, each (locale, intent) group spread evenly."""
    parts: list[list[Example]] = [[] for _ in range(k)]
    for items in _groups(examples, seed):
        for index, item in enumerate(items):
            parts[index % k].append(item)
    return parts


def _groups(examples: Sequence[Example], seed: int) -> list[list[Example]]:
    """The (locale, intent) groups in order, each shuffled with a seed of its own.

    A group's held-out examples and folds then stay as they are when another group's
    examples change.
    """
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.locale, example.intent)].append(example)
    shuffled = []
    for locale, intent in sorted(groups):
        items = sorted(groups[(locale, intent)], key=lambda e: e.text)
        random.Random(f"{seed}/{locale}/{intent}").shuffle(items)
        shuffled.append(items)
    return shuffled


def predict(nlu: EmbeddedNlu, test: Sequence[Example]) -> list[Outcome]:
    """Classify each example and ask the guard whether it would be refused."""
    outcomes = []
    for example in test:
        parse = nlu.predict(example.text)
        refused = bool(guard.check(parse, example.text).refusals)
        outcomes.append(Outcome(example, parse.intent, refused))
    return outcomes


@dataclass(frozen=True, slots=True)
class Joined:
    """Held-out examples joined in pairs, and what the readings answered.

    Attributes:
        questions: Pairs of two policy questions of different intents.
        both: Share of those where both were answered (read sentence by sentence).
        stray: Share where an answer went to neither question.
        whole_first, whole_second: Shares where the whole reading answered the first,
            the second question (it answers one at most).
        social: Pairs of a thanks, greeting or goodbye, then a policy question.
        social_answered, social_whole: Shares where the question was the message's
            intent, read sentence by sentence and read whole.
    """

    questions: int
    both: float
    stray: float
    whole_first: float
    whole_second: float
    social: int
    social_answered: float
    social_whole: float


#: How a sentence ends in each locale when two examples are joined.
_ENDS = {"zh_Hans": "。", "zh_Hant": "。"}


async def joined(
    nlu: NluBackend, test: Sequence[Example], pairs: int = 300, seed: int = 7
) -> Joined:
    """Join held-out examples of one locale in pairs and read them (see :class:`Joined`).

    Any backend: the embedded NLU, or a Rasa server (``benchmarks/nlu.py``).
    """
    rng = random.Random(seed)
    by_locale: dict[str, list[Example]] = defaultdict(list)
    for example in test:
        by_locale[example.locale].append(example)
    questions, social = [], []
    for locale in sorted(by_locale):
        items = by_locale[locale]
        asked = [e for e in items if e.intent in clauses.INFO]
        said = [e for e in items if e.intent in clauses.COURTESIES]
        for _ in range(pairs // len(by_locale)):
            first, second = rng.sample(asked, 2)
            if first.intent != second.intent:
                questions.append((first, second))
            social.append((rng.choice(said), rng.choice(asked)))
    asked_pairs = await _read_all(nlu, questions)
    social_pairs = await _read_all(nlu, social)
    both, stray, whole_first, whole_second = [], [], [], []
    for (first, second), (read, whole) in zip(questions, asked_pairs, strict=True):
        answered = {read.intent, *read.also}
        both.append(first.intent in answered and second.intent in answered)
        stray.append(bool(answered - {first.intent, second.intent, None}))
        whole_first.append(whole.intent == first.intent)
        whole_second.append(whole.intent == second.intent)
    pairs_read = zip(social, social_pairs, strict=True)
    heard, heard_whole = [], []
    for (_, question), (read, whole) in pairs_read:
        heard.append(read.intent == question.intent)
        heard_whole.append(whole.intent == question.intent)
    return Joined(
        questions=len(questions),
        both=_share(both),
        stray=_share(stray),
        whole_first=_share(whole_first),
        whole_second=_share(whole_second),
        social=len(social),
        social_answered=_share(heard),
        social_whole=_share(heard_whole),
    )


#: Readings that suit a message the policy does not cover: declining it, saying what the
#: bot is, taking it as small talk, or asking again (no intent, or "I don't know" when the
#: bot asked nothing: the dialogue does not understand it then).
DECLINING = frozenset({"out_of_scope", "bot_capabilities", DONT_KNOW, *clauses.SOCIAL})


@dataclass(frozen=True, slots=True)
class OpenDomain:
    """How messages the policy does not cover were read (:data:`OPEN_DOMAIN`).

    Attributes:
        declined: Share declined, told what the bot is, taken as small talk or asked again.
        answered: Share given a policy answer nobody asked for (and nothing worse).
        acted: Share asked for an order number, refused, warned about abuse or handed
            to a person.
        misread: Each message not declined, and what it was read as.
    """

    messages: int
    declined: float
    answered: float
    acted: float
    misread: tuple[tuple[str, str], ...]


#: Messages the policy does not cover, written apart from the training data.
OPEN_DOMAIN = ROOT / "tests" / "data" / "open_domain.yml"


def load_open_domain(path: Path = OPEN_DOMAIN) -> list[Example]:
    """The messages of ``path`` (a mapping of locale to messages), as out_of_scope examples."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Example(text, "out_of_scope", locale) for locale, texts in loaded.items() for text in texts
    ]


async def open_domain(nlu: NluBackend, messages: Sequence[Example]) -> OpenDomain:
    """Read each message as the bot does (sentences, then the guard); see :class:`OpenDomain`."""
    declined, answered, acted, misread = [], [], [], []
    for example in messages:
        read, _ = await _read(nlu, example.text, example.locale)
        verdict = guard.check(read, example.text)
        answered_as = {verdict.intent, *verdict.also}
        readings = {i for i in answered_as if i is not None and i not in DECLINING}
        wrong = readings - clauses.INFO or set(verdict.refusals)
        declined.append(not readings and not verdict.refusals)
        answered.append(bool(readings) and not wrong)
        acted.append(bool(wrong))
        if readings or verdict.refusals:
            read_as = sorted(readings | set(verdict.refusals))
            misread.append((example.text, ", ".join(read_as)))
    return OpenDomain(
        len(messages), _share(declined), _share(answered), _share(acted), tuple(misread)
    )


def joined_text(first: Example, second: Example) -> str:
    """Two examples as one message: a sentence end after the first when it has none."""
    text = first.text.rstrip()
    if text[-1:] not in ".!?。！？":
        text += _ENDS.get(first.locale, ".")
    return text + ("" if text.endswith(("。", "！", "？")) else " ") + second.text


async def _read_all(
    nlu: NluBackend, pairs: Sequence[tuple[Example, Example]]
) -> list[tuple[Parse, Parse]]:
    """Each pair joined, read sentence by sentence and read whole."""
    return [await _read(nlu, joined_text(first, second), first.locale) for first, second in pairs]


async def _read(nlu: NluBackend, text: str, locale: str) -> tuple[Parse, Parse]:
    """``text`` read as the bot reads it (sentence by sentence too), and read whole."""
    whole = await nlu.parse(text, locale)
    parse = partial(nlu.parse, language=locale)
    return await clauses.understand(parse, text, whole), whole


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / max(1, len(flags))


def f1_scores(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """Return F1 per true intent."""
    true_positive: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    for outcome in outcomes:
        actual[outcome.example.intent] += 1
        if outcome.predicted:
            predicted[outcome.predicted] += 1
        if outcome.predicted == outcome.example.intent:
            true_positive[outcome.example.intent] += 1
    scores = {}
    for intent in actual:
        precision = true_positive[intent] / predicted[intent] if predicted[intent] else 0.0
        recall = true_positive[intent] / actual[intent]
        total = precision + recall
        scores[intent] = 2 * precision * recall / total if total else 0.0
    return scores


def accuracy(outcomes: Sequence[Outcome]) -> float:
    """Share of outcomes whose predicted intent is the true one."""
    return sum(o.predicted == o.example.intent for o in outcomes) / max(1, len(outcomes))


def refusal_rates(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    """Return (refusal recall, false-refusal rate) over the outcomes."""
    out = [o for o in outcomes if o.example.intent in guard.REFUSAL_INTENTS]
    inside = [o for o in outcomes if o.example.intent not in guard.REFUSAL_INTENTS]
    recall = sum(o.refused for o in out) / max(1, len(out))
    false = sum(o.refused for o in inside) / max(1, len(inside))
    return recall, false


def by_locale(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    """Group outcomes by the example's locale."""
    grouped: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[outcome.example.locale].append(outcome)
    return dict(sorted(grouped.items()))


def confusion_html(outcomes: Sequence[Outcome]) -> str:
    """Render the confusion matrix (true intent by row) as a standalone HTML page."""
    labels = sorted(
        {o.example.intent for o in outcomes} | {o.predicted or "(none)" for o in outcomes}
    )
    counts = Counter((o.example.intent, o.predicted or "(none)") for o in outcomes)
    rows = []
    for true in labels:
        total = sum(counts[(true, p)] for p in labels) or 1
        cells = []
        for guess in labels:
            n = counts[(true, guess)]
            shade = int(255 - 200 * n / total)
            colour = f"rgb({shade},{shade},255)" if true == guess else f"rgb(255,{shade},{shade})"
            cells.append(f'<td style="background:{colour}">{n or ""}</td>')
        rows.append(f"<tr><th>{html.escape(true)}</th>{''.join(cells)}</tr>")
    head = "".join(f'<th class="v">{html.escape(label)}</th>' for label in labels)
    return (
        "<!doctype html><meta charset=utf-8><title>NLU confusion matrix</title>"
        "<style>td,th{border:1px solid #ccc;padding:2px 4px;font:12px sans-serif;text-align:center}"
        "th.v{writing-mode:vertical-rl}</style>"
        f"<h1>Confusion matrix (held-out, rows: true intent)</h1><table><tr><th></th>{head}</tr>"
        f"{''.join(rows)}</table>"
    )


def write_report(
    directory: Path,
    held_out: Sequence[Outcome],
    cross: Sequence[float],
    train_seconds: float,
    pairs: Joined,
    unseen: OpenDomain | None = None,
) -> Path:
    """Write ``nlu-report.md`` and ``nlu-confusion.html`` into ``directory``.

    ``unseen``: the messages the policy does not cover, when their file is at hand.
    """
    directory.mkdir(parents=True, exist_ok=True)
    recall, false = refusal_rates(held_out)
    lines = [
        "# NLU evaluation (embedded)",
        "",
        f"Held-out accuracy: {accuracy(held_out):.3f} on {len(held_out)} examples; "
        f"training took {train_seconds:.1f} s.",
        f"Cross-validation ({len(cross)} folds): accuracy "
        + ", ".join(f"{a:.3f}" for a in cross)
        + f" (mean {sum(cross) / max(1, len(cross)):.3f}).",
        f"Refusal recall {recall:.3f}; false refusals {false:.3f}.",
        "",
        f"Two held-out questions of different intents joined into one message "
        f"({pairs.questions} pairs): both answered {pairs.both:.3f}, an answer to neither "
        f"question {pairs.stray:.3f}; read whole, the first answered {pairs.whole_first:.3f}, "
        f"the second {pairs.whole_second:.3f}.",
        f"A held-out thanks, greeting or goodbye, then a question ({pairs.social} pairs): "
        f"the question answered {pairs.social_answered:.3f}; read whole "
        f"{pairs.social_whole:.3f}.",
        "",
    ]
    if unseen is not None:
        lines += [
            f"Messages the policy does not cover ({unseen.messages}, none of them trained on): "
            f"declined {unseen.declined:.3f}, given a policy answer {unseen.answered:.3f}, "
            f"acted on {unseen.acted:.3f}.",
            *(f"- {text} → {read_as}" for text, read_as in unseen.misread),
            "",
        ]
    lines += [
        "| locale | examples | accuracy | macro-F1 |",
        "|---|---|---|---|",
    ]
    for locale, outcomes in by_locale(held_out).items():
        scores = f1_scores(outcomes)
        macro = sum(scores.values()) / max(1, len(scores))
        lines.append(f"| {locale} | {len(outcomes)} | {accuracy(outcomes):.3f} | {macro:.3f} |")
    lines += ["", "| intent | F1 |", "|---|---|"]
    for intent, score in sorted(f1_scores(held_out).items()):
        lines.append(f"| {intent} | {score:.3f} |")
    report = directory / "nlu-report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "nlu-confusion.html").write_text(confusion_html(held_out), encoding="utf-8")
    return report
