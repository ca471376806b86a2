"""Two versions of the bot side by side: the CPU a message costs each, under the same load.

Measured one after the other, the same code gives figures 10 % apart on this kind of
machine from one minute to the next, more than most changes save. So this runs both at
once: one ``python -m bot serve`` on a git revision (``--base``, checked out into a
temporary worktree) and one on the working tree, on PostgreSQL (a fresh schema each,
127.0.0.1:5432, database ``test`` or BENCH_POSTGRES_URL), sharing one trained NLU model.
The load client of ``benchmarks/load.py`` hands the conversations to them in turn, each
server getting every language's script, 20 at a time, and after each round it reads each
process's CPU: its CPU per answered message.

The process started second came out 4-6 % cheaper with the same code on both sides, so
everything runs twice, the processes started in one order and then in the other; read
both. It prints figures and asserts nothing.

Run: .venv/bin/python benchmarks/side_by_side.py --base 24114a4 [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402

#: Conversations a round (10 messages each), and how many run at once.
CONVERSATIONS, CONCURRENCY = 600, 20


def worktree(revision: str, folder: Path) -> Path:
    """Check ``revision`` out into ``folder`` (a git worktree) with the compiled catalogs."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(folder), revision],
        check=True,
    )
    for compiled in ROOT.glob("locales/*/LC_MESSAGES/messages.mo"):  # built, not tracked
        shutil.copy(compiled, folder / compiled.relative_to(ROOT))
    return folder


def start(tree: Path, database_url: str, model: Path, folder: Path) -> load.Server:
    """``python -m bot serve`` of ``tree`` (its code first on the path), as load.py starts one."""
    port = load.free_port()
    unset = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset} | {
        "PYTHONPATH": str(tree),
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "NLU_BACKEND": "embedded",
        "NLU_MODEL_PATH": str(model),
        "NLU_DATA_DIR": str(tree / "nlu_data"),
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_CONVERSATION": "0",
        "RATE_LIMIT_PER_ADDRESS": "0",
    }
    folder.mkdir(parents=True)
    log = folder / "serve.log"
    ready = f"http://127.0.0.1:{port}/healthz"
    return load.start([sys.executable, "-m", "bot", "serve"], env, ready, log)


def compare(order: list[tuple[str, Path]], model: Path, folder: Path, rounds: int) -> None:
    """Start the servers in ``order``, load them together, print each one's CPU a message."""
    with ExitStack() as stack:
        servers: dict[str, load.Server] = {}
        for name, tree in order:
            url = stack.enter_context(load.postgres_schema())
            servers[name] = start(tree, url, model, folder / f"{order[0][0]}-first" / name)
            stack.callback(load.stop, servers[name].process)
        urls = [server.url for server in servers.values()]

        async def conversation(session: load.Session, number: int, phase: load.Phase) -> None:
            # server n % 2, the script of conversation n // 2: each server gets every language
            await load.app_conversation(session, [urls[number % 2]], number // 2, 10, phase)

        asyncio.run(load.run_level(conversation, 2, 12))  # warm up
        print(f"started {' then '.join(servers)}")
        spent: dict[str, list[float]] = {name: [] for name in servers}
        for number in range(1, rounds + 1):
            before = {n: load.cpu_seconds(s.process.pid) for n, s in servers.items()}
            phase = asyncio.run(load.run_level(conversation, CONCURRENCY, CONVERSATIONS))
            each = len(phase.latencies) / 2 or 1
            for name, server in servers.items():
                spent[name].append((load.cpu_seconds(server.process.pid) - before[name]) / each)
            figures = ", ".join(f"{n} {v[-1] * 1000:.3f}" for n, v in spent.items())
            print(
                f"  round {number}: {len(phase.latencies) / phase.wall:.0f} msg/s together, "
                f"errors {sum(phase.errors.values())}; CPU ms/msg {figures}",
                flush=True,
            )
        for name, values in spent.items():
            rss = load.rss_mb(servers[name].process.pid)
            mean = sum(values) / len(values) * 1000
            print(f"  {name}: mean {mean:.3f} ms/msg, RSS {rss:.0f} MiB")
        base, new = (sum(spent[n]) for n in ("base", "new"))
        print(f"  new against base: {(1 - new / base) * 100:.1f} % less CPU a message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"side by side: {args.base} (base) and the working tree (new), on PostgreSQL")
    print(f"  {CONVERSATIONS} conversations of 10 messages a round, {CONCURRENCY} at a time")
    print(f"  loop of 10 million additions {load.python_speed():.2f} s")
    with tempfile.TemporaryDirectory(prefix="xoobay-side-") as tmp:
        folder = Path(tmp)
        base = worktree(args.base, folder / "base-tree")
        try:
            model = load.trained_model(folder)
            order = [("base", base), ("new", ROOT)]
            compare(order, model, folder, args.rounds)
            compare(order[::-1], model, folder, args.rounds)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=True
            )


if __name__ == "__main__":
    main()
