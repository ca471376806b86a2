"""Load benchmark: the web chat API under concurrent conversations, and a Rasa server beside it.

For SQLite and PostgreSQL, with one and with two app processes (`python -m bot serve`,
one shared, already trained NLU model), it runs 1, 10 and 100 concurrent conversations;
each conversation is `POST /api/v1/conversations` and then a realistic mix of messages
in six languages (greetings, FAQ questions, an order question, a customs question).
The client spreads conversations over the processes round-robin, as a load balancer
would. Printed: messages per second, p50/p99 latency of the message requests, errors,
the CPU the client itself used, RSS of each server process after the run and its
start-up time (process start until /healthz answers 200).

In the same run, the alternative a shop would otherwise deploy: a Rasa 3.6 server's REST
channel (`POST /webhooks/rest/webhook`) with a full model generated from nlu_data/
(benchmarks/rasa_project.py), at the same concurrency levels.

It prints figures and asserts nothing. The client runs on the same 2 cores as the
servers, so every figure is a lower bound of what the servers do alone.

With ``--pairs N`` it runs only the bot on PostgreSQL with two processes and the Rasa
server, both kept running, measured in turns N times at 10 concurrent conversations
(:func:`paired`): each pair's ratio compares them on nearly the same machine.

Run: .venv/bin/python benchmarks/load.py [--quick] [--skip-rasa] [--rasa-venv PATH]
     .venv/bin/python benchmarks/load.py --pairs 6
PostgreSQL: 127.0.0.1:5432, database `test` (BENCH_POSTGRES_URL); a fresh schema per run,
dropped afterwards.
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
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import rasa_project  # noqa: E402

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
LEVELS = (1, 10, 100)

# One conversation per language; each is said in order, then again from the start.
SCRIPTS: dict[str, list[str]] = {
    "en": [
        "Hello!",
        "When is the live chat open?",
        "What is the support email address?",
        "Where is my order ORD123456?",
        "How much import duty will I pay for customs?",
        "How long until you answer an email?",
        "Thanks!",
    ],
    "zh-Hans": [
        "你好",
        "客服的工作时间是几点到几点？",
        "客服邮箱是多少？",
        "我的订单ORD2345678到哪里了？",
        "清关需要交多少关税？",
        "怎么投诉？",
        "谢谢",
    ],
    "zh-Hant": [
        "您好",
        "線上客服幾點開？",
        "客服熱線是多少？",
        "請問我的訂單ORD3456789現在在哪裡？",
        "海關扣了我的包裹，怎麼清關？",
        "付款方式有哪些？",
        "謝謝",
    ],
    "ru": [
        "Здравствуйте!",
        "Когда работает онлайн-чат?",
        "Какой у поддержки адрес электронной почты?",
        "Где мой заказ ORD4567890?",
        "Сколько таможенной пошлины мне придётся заплатить?",
        "На каких языках вы отвечаете?",
        "Спасибо!",
    ],
    "de": [
        "Guten Tag!",
        "Wann ist der Live-Chat geöffnet?",
        "Welche E-Mail-Adresse hat der Support?",
        "Wo ist meine Bestellung ORD5678901?",
        "Wie viel Einfuhrzoll muss ich beim Zoll bezahlen?",
        "Wie schnell antwortet ihr auf E-Mails?",
        "Danke!",
    ],
    "ko": [
        "안녕하세요",
        "라이브 채팅은 언제 운영하나요?",
        "고객센터 이메일 주소가 뭐예요?",
        "제 주문 ORD6789012 어디쯤 왔나요?",
        "통관할 때 관세는 얼마나 내야 하나요?",
        "결제 방법은 뭐가 있나요?",
        "감사합니다",
    ],
}
LANGUAGES = list(SCRIPTS)


@dataclass
class Phase:
    """What one concurrency level measured."""

    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0  # seconds, the server processes together (not the database's)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass
class Server:
    """A server process we started: its pid, URL, start-up time and log file."""

    process: subprocess.Popen[bytes]
    url: str
    startup: float
    log: Path


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` and all its descendants, in MiB (2**20 bytes; 1 MiB = 1.049 MB)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], env: dict[str, str], ready: str, log: Path) -> Server:
    """Start ``command`` in the log's folder; wait until GET ``ready`` answers 200; time that."""
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=log.parent, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 600
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited ({process.returncode}):\n{tail(log)}")
            try:
                if client.get(ready).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        else:
            stop(process)
            raise RuntimeError(f"{ready} did not answer within 600 s:\n{tail(log)}")
    url = ready.rsplit("/", 1)[0]
    return Server(process, url, time.perf_counter() - started, log)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tail(log: Path, lines: int = 25) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def start_apps(count: int, database_url: str, model: Path, folder: Path) -> list[Server]:
    """Start ``count`` app processes one after the other (each start-up timed alone).

    They run in ``folder`` (no developer's .env) with only the web chat: no Telegram,
    no Redis, the embedded NLU.
    """
    servers: list[Server] = []
    unset = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL", "REDIS_URL")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    try:
        for index in range(count):
            port = free_port()
            env = base | {
                "DATABASE_URL": database_url,
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "NLU_BACKEND": "embedded",
                "NLU_MODEL_PATH": str(model),
                "LOG_LEVEL": "WARNING",
                # the benchmark is one client address sending as fast as it can
                "RATE_LIMIT_PER_CONVERSATION": "0",
                "RATE_LIMIT_PER_ADDRESS": "0",
            }
            command = [sys.executable, "-m", "bot", "serve"]
            log = folder / f"app-{index}.log"
            servers.append(start(command, env, f"http://127.0.0.1:{port}/healthz", log))
    except BaseException:
        for server in servers:
            stop(server.process)
        raise
    return servers


# --- the client -------------------------------------------------------------------------


Session = aiohttp.ClientSession
Conversation = Callable[[Session, int, Phase], Awaitable[None]]
FAILURES = (aiohttp.ClientError, asyncio.TimeoutError)


async def app_conversation(
    session: Session, urls: list[str], number: int, messages: int, phase: Phase
) -> None:
    """One web chat conversation: create it on the next process, then post its messages."""
    base = urls[number % len(urls)]
    script = SCRIPTS[LANGUAGES[number % len(LANGUAGES)]]
    try:
        async with session.post(f"{base}/api/v1/conversations", json={}) as created:
            body = await created.json() if created.status == 201 else await created.text()
    except FAILURES as error:
        phase.error(f"create: {type(error).__name__}")
        return
    if not isinstance(body, dict):
        phase.error(f"create: HTTP {created.status} {body[:120]}")
        return
    path = f"{base}/api/v1/conversations/{body['id']}/messages"
    headers = {"Authorization": f"Bearer {body['token']}"}
    for index in range(messages):
        payload = {"text": script[index % len(script)], "client_message_id": f"m{index}"}
        await timed(session, path, payload, headers, phase)


async def rasa_conversation(
    session: Session, url: str, number: int, messages: int, phase: Phase
) -> None:
    """The same conversation told to Rasa's REST channel (its sender id is the conversation)."""
    sender = uuid.uuid4().hex
    script = SCRIPTS[LANGUAGES[number % len(LANGUAGES)]]
    for index in range(messages):
        payload = {"sender": sender, "message": script[index % len(script)]}
        await timed(session, f"{url}/webhooks/rest/webhook", payload, {}, phase)


async def timed(
    session: Session, url: str, payload: dict[str, str], headers: dict[str, str], phase: Phase
) -> None:
    """POST ``payload``; record the latency of a 200 with a JSON body, or the error."""
    started = time.perf_counter()
    try:
        async with session.post(url, json=payload, headers=headers) as response:
            body = await response.read()
    except FAILURES as error:
        phase.error(type(error).__name__ or "timeout")
        return
    elapsed = time.perf_counter() - started
    if response.status != 200 or not body.startswith((b"{", b"[")):
        phase.error(f"HTTP {response.status} {body[:120].decode(errors='replace')}")
        return
    phase.latencies.append(elapsed)


async def run_level(conversation: Conversation, concurrency: int, conversations: int) -> Phase:
    """Run ``conversations`` conversations, ``concurrency`` at a time, on one pooled session."""
    phase = Phase(concurrency)
    numbers = iter(range(conversations))

    async def worker(session: Session) -> None:
        for number in numbers:
            await conversation(session, number, phase)

    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive ends them
    # (otherwise a request can race the server's close).
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=2)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        phase.wall = time.perf_counter() - started
        phase.client_cpu = time.process_time() - cpu
    return phase


# --- running and printing --------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How much load each level gets."""

    messages: int  # per conversation
    conversations: dict[int, int]  # per concurrency level
    warmup: int  # conversations per server before measuring


FULL = Plan(messages=10, conversations={1: 30, 10: 100, 100: 300}, warmup=6)
QUICK = Plan(messages=4, conversations={1: 3, 10: 10, 100: 100}, warmup=2)


def header() -> None:
    print(
        f"  {'conc':>4} {'messages':>8} {'errors':>6} {'msg/s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'client CPU':>10} {'server CPU/msg':>14}"
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process (all its threads) has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def row(phase: Phase) -> None:
    done = len(phase.latencies)
    rate = done / phase.wall if phase.wall else 0.0
    print(
        f"  {phase.concurrency:4d} {done:8d} {sum(phase.errors.values()):6d} {rate:7.1f} "
        f"{percentile(phase.latencies, 0.5) * 1000:7.1f} "
        f"{percentile(phase.latencies, 0.99) * 1000:7.1f} "
        f"{phase.client_cpu / phase.wall * 100 if phase.wall else 0:9.0f}% "
        f"{phase.server_cpu / done * 1000 if done else 0:11.2f} ms",
        flush=True,
    )
    for kind, count in sorted(phase.errors.items(), key=lambda item: -item[1])[:3]:
        print(f"         {count} x {kind}")


def measure(
    name: str,
    servers: list[Server],
    plan: Plan,
    conversation: Conversation,
) -> list[Phase]:
    """Warm up, run every level, print the rows, RSS and start-up of ``servers``."""
    print(f"\n{name}", flush=True)
    asyncio.run(run_level(conversation, len(servers), plan.warmup * len(servers)))
    header()
    phases = []
    pids = [server.process.pid for server in servers]
    for level in LEVELS:
        before = sum(map(cpu_seconds, pids))
        phase = asyncio.run(run_level(conversation, level, plan.conversations[level]))
        phase.server_cpu = sum(map(cpu_seconds, pids)) - before
        row(phase)
        phases.append(phase)
    for index, server in enumerate(servers):
        if server.process.poll() is not None:
            print(
                f"  process {index + 1}: start-up {server.startup:.2f} s, EXITED during the run "
                f"(code {server.process.returncode}); the end of its log:"
            )
            print("    " + tail(server.log, 15).replace("\n", "\n    "))
            continue
        print(
            f"  process {index + 1}: start-up {server.startup:.2f} s, "
            f"RSS after the run {rss_mb(server.process.pid):.0f} MiB"
        )
    print(f"  machine load average (1 min) now: {os.getloadavg()[0]:.2f}")
    return phases


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the `test` database, dropped afterwards; yields its URL."""
    schema = f"load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "PostgreSQL":
        with postgres_schema() as url:
            yield url
    else:
        path = folder / f"bench-{uuid.uuid4().hex[:6]}.db"
        yield f"sqlite:///{path}"


def bench_app(
    kind: str, processes: int, plan: Plan, model: Path, folder: Path
) -> list[Phase] | None:
    name = f"bot on {kind}, {processes} process{'es' if processes > 1 else ''}"
    with database(kind, folder) as url:
        try:
            servers = start_apps(processes, url, model, folder)
        except RuntimeError as error:
            print(f"\n{name}\n  could not start: {error}")
            return None
        try:
            urls = [server.url for server in servers]

            async def conversation(session: Session, number: int, phase: Phase) -> None:
                await app_conversation(session, urls, number, plan.messages, phase)

            return measure(name, servers, plan, conversation)
        finally:
            for server in servers:
                stop(server.process)


RASA = "Rasa 3.6 server, REST channel (full model: DIET + RulePolicy), 1 process"


def bench_rasa(venv: Path, plan: Plan, folder: Path) -> list[Phase] | None:
    with rasa_server(venv, folder) as server:
        if server is None:
            return None

        async def conversation(session: Session, number: int, phase: Phase) -> None:
            await rasa_conversation(session, server.url, number, plan.messages, phase)

        return measure(RASA, [server], plan, conversation)


@contextmanager
def rasa_server(venv: Path, folder: Path) -> Iterator[Server | None]:
    """A Rasa server on our nlu_data/ (trained once, then cached); ``None`` if not installed."""
    binary = venv / "bin" / "rasa"
    if not binary.exists():
        print(f"\n{RASA}\n  not installed at {venv} (scripts/rasa-server installs it); skipped")
        yield None
        return
    project = folder / "rasa-project"
    digest = rasa_project.write_project(project)
    models = ROOT / ".rasa-models"
    cached = (models / f"full-{digest}.tar.gz").exists()
    print(
        f"\n(Rasa model full-{digest}: {'cached' if cached else 'training, minutes'})", flush=True
    )
    started = time.perf_counter()
    model = rasa_project.train(binary, project, models, f"full-{digest}")
    if not cached:
        print(f"(Rasa trained in {time.perf_counter() - started:.0f} s)")
    port = free_port()
    command = [str(binary), "run", "--enable-api", "--model", str(model)]
    command += ["--interface", "127.0.0.1", "--port", str(port)]
    env = os.environ | {"RASA_TELEMETRY_ENABLED": "false", "LOG_LEVEL": "WARNING"}
    server = start(command, env, f"http://127.0.0.1:{port}/status", folder / "rasa.log")
    try:
        yield server
    finally:
        stop(server.process)


def paired(venv: Path, plan: Plan, model: Path, folder: Path, pairs: int) -> None:
    """The bot on PostgreSQL x2 and Rasa, both kept running, measured in turns.

    The machine's speed drifts within a run (see python_speed), and the bot and Rasa
    measured minutes apart can meet different machines. Here each pair of rounds runs
    one right after the other (who goes first alternates), at 10 concurrent
    conversations, so each pair's ratio compares the two on nearly the same machine.
    """
    name = "paired rounds: the bot on PostgreSQL x2 and Rasa in turns, 10 conversations at once"
    with postgres_schema() as url, rasa_server(venv, folder) as rasa:
        if rasa is None:
            return
        servers = start_apps(2, url, model, folder)
        try:
            urls = [server.url for server in servers]
            bot_pids = [server.process.pid for server in servers]

            async def bot(session: Session, number: int, phase: Phase) -> None:
                await app_conversation(session, urls, number, plan.messages, phase)

            async def other(session: Session, number: int, phase: Phase) -> None:
                await rasa_conversation(session, rasa.url, number, plan.messages, phase)

            sides = {
                "bot": (bot, bot_pids, plan.conversations[10]),
                "Rasa": (other, [rasa.process.pid], max(plan.conversations[10] // 4, 2)),
            }
            # warm up: one unreported round each, at the same concurrency (the bot's pools
            # open their connections, which prepare their statements, in its first one)
            for conversation, _, count in sides.values():
                asyncio.run(run_level(conversation, 10, count))
            print(f"\n{name}")
            print(
                f"  {'pair':>4} {'first':>5} {'bot msg/s':>9} {'Rasa msg/s':>10} {'ratio':>6} "
                f"{'bot CPU/msg':>11} {'Rasa CPU/msg':>12} {'bot p99':>8}"
            )
            ratios = []
            for pair in range(pairs):
                order = ["bot", "Rasa"] if pair % 2 == 0 else ["Rasa", "bot"]
                done: dict[str, Phase] = {}
                for side in order:
                    conversation, pids, count = sides[side]
                    before = sum(map(cpu_seconds, pids))
                    done[side] = asyncio.run(run_level(conversation, 10, count))
                    done[side].server_cpu = sum(map(cpu_seconds, pids)) - before
                rates = {k: len(p.latencies) / p.wall for k, p in done.items()}
                cpu = {k: p.server_cpu / max(len(p.latencies), 1) * 1000 for k, p in done.items()}
                errors = sum(sum(p.errors.values()) for p in done.values())
                ratios.append(rates["bot"] / rates["Rasa"])
                print(
                    f"  {pair + 1:4d} {order[0]:>5} {rates['bot']:9.1f} {rates['Rasa']:10.1f} "
                    f"{ratios[-1]:5.1f}x {cpu['bot']:8.2f} ms {cpu['Rasa']:9.2f} ms "
                    f"{percentile(done['bot'].latencies, 0.99) * 1000:5.1f} ms"
                    + (f"  ({errors} errors)" if errors else ""),
                    flush=True,
                )
            ordered = sorted(ratios)
            print(
                f"  ratio bot / Rasa: median {ordered[len(ordered) // 2]:.1f}x, "
                f"lowest {ordered[0]:.1f}x, highest {ordered[-1]:.1f}x over {pairs} pairs"
            )
        finally:
            for server in servers:
                stop(server.process)


SETUPS = {
    "sqlite-1": ("SQLite", 1),
    "sqlite-2": ("SQLite", 2),
    "postgresql-1": ("PostgreSQL", 1),
    "postgresql-2": ("PostgreSQL", 2),
}


def best_rate(phases: list[Phase] | None) -> float:
    return max((len(p.latencies) / p.wall for p in phases or [] if p.wall), default=0.0)


def python_speed() -> float:
    """Seconds this machine takes for 10 million additions in a Python loop.

    The same figure measured on another day says how far apart two runs' machines are:
    the bot's figures scale with it, since a message is mostly Python work.
    """
    started, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def processor() -> str:
    """The processor's model and its widest vector instructions (Linux), as /proc says.

    Rasa's figures may depend on them (TensorFlow's kernels) more than the bot's: Rasa
    took 12.06 ms of CPU a message in the run of 2026-12-06 12:10 UTC and 17.5-22.4 ms in
    the runs of 20:45-21:10 UTC, the bot 1.81-1.86 ms and 1.75 ms at its best in them.
    """
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in info.splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    flags = next(
        (line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")),
        [],
    )
    widest = next((f for f in ("avx512f", "avx2", "avx") if f in flags), "no AVX")
    return f"{model}, {widest}"


def interpreter(venv: Path | None = None) -> str:
    """The Python the bot runs on (this one), or that of the virtual environment ``venv``.

    Its build counts, not only its version: ``serve``'s imports took 0.77-1.18 s (median
    0.90) on Debian's Python 3.11.2 and 0.97-1.41 s (median 1.08) on a pyenv build of
    3.11.7, compiled without the profile-guided and link-time optimization that Debian's
    build and the official python:3.11-slim image have (ten runs each, alternating, on
    the machine of 2026-12-07).
    """
    if venv is None:
        return f"Python {sys.version.split()[0]} of {sys.base_prefix}"
    try:
        lines = (venv / "pyvenv.cfg").read_text().splitlines()
    except OSError:
        return f"an unknown Python ({venv / 'pyvenv.cfg'} is missing)"
    config = {}
    for line in lines:
        key, equals, value = line.partition("=")
        if equals:
            config[key.strip()] = value.strip()
    home = config.get("home", "?").removesuffix("/bin")
    return f"Python {config.get('version', config.get('version_info', '?'))} of {home}"


def speed_now() -> None:
    """Print the machine's Python speed again: a shared machine's speed drifts within a run."""
    print(f"\n(Python speed now: the loop took {python_speed():.2f} s)", flush=True)


def trained_model(folder: Path) -> Path:
    """Train the NLU model into ``folder``, and build the detector's word table beside it."""
    model = folder / "nlu-model.npz"
    env = os.environ | {"NLU_MODEL_PATH": str(model)}
    subprocess.run([sys.executable, "-m", "bot", "train"], env=env, check=True, capture_output=True)
    # the language detector's word table is cached beside the model: build it now,
    # as an installed bot has it, so start-up is measured as a restart measures it
    subprocess.run(
        [sys.executable, "-m", "bot", "detect"],
        env=env,
        input=b"",
        check=True,
        capture_output=True,
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rasa-venv", default=str(ROOT / ".rasa-venv"))
    parser.add_argument("--skip-rasa", action="store_true")
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        help="only the bot on PostgreSQL x2 and Rasa, measured in turns this many times",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[*SETUPS, "rasa"],
        help="run only these setups (repeatable); default: all",
    )
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    print(f"load benchmark{' (quick)' if args.quick else ''}, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"  {os.cpu_count()} cores, shared by the servers and this client (aiohttp, one pooled\n"
        "  connection per concurrent conversation; httpx's AsyncClient used 7-30x more client\n"
        "  CPU per request on this machine); 'client CPU' = the client's share of one core;\n"
        "  'server CPU/msg' = the CPU of the server processes (all of them, their threads,\n"
        "  not the database's) per answered message, conversations created included\n"
        f"  {plan.messages} messages per conversation; conversations per level "
        f"{plan.conversations}\n"
        "  latency = the message requests only; msg/s = messages / wall time, creating the\n"
        "  conversations included; servers log at WARNING; load average before: "
        f"{os.getloadavg()[0]:.2f}\n"
        f"  this machine's Python speed: a loop of 10 million additions took "
        f"{python_speed():.2f} s; processor: {processor()}\n"
        f"  the bot on {interpreter()}; Rasa on {interpreter(Path(args.rasa_venv))}"
    )
    with tempfile.TemporaryDirectory(prefix="xoobay-load-") as tmp:
        folder = Path(tmp)
        model = trained_model(folder)
        if args.pairs:
            paired(Path(args.rasa_venv), plan, model, folder, args.pairs)
            speed_now()
            return
        results = {}
        for setup, (kind, processes) in SETUPS.items():
            if not args.only or setup in args.only:
                speed_now()
                results[kind, processes] = bench_app(kind, processes, plan, model, folder)
        rasa = None
        if not args.skip_rasa and (not args.only or "rasa" in args.only):
            speed_now()
            rasa = bench_rasa(Path(args.rasa_venv), plan, folder)
    speed_now()
    summary(results, rasa)
    print(f"\nclient maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def summary(results: dict[tuple[str, int], list[Phase] | None], rasa: list[Phase] | None) -> None:
    print("\nbest messages/s per setup:")
    for (kind, processes), phases in results.items():
        print(f"  {kind:10} x{processes}: {best_rate(phases):7.1f}")
    if rasa is not None:
        print(f"  {'Rasa':10} x1: {best_rate(rasa):7.1f}")
        app = max(best_rate(results.get(("PostgreSQL", n))) for n in (1, 2))
        if app and best_rate(rasa):
            print(f"  PostgreSQL best / Rasa best: {app / best_rate(rasa):.1f} x")


if __name__ == "__main__":
    main()
