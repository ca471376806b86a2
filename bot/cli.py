"""The command line: ``python -m bot COMMAND`` (also installed as ``xoobay-bot``).

Commands: serve, chat, detect, db, train, evaluate, demo-data, agents. ``--help`` on each
says more. Settings come from the environment (see the README).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, Settings
from bot.logs import configure as configure_logging

log = logging.getLogger("bot")


def _serve(settings: Settings, _: argparse.Namespace) -> int:
    from bot.heap import one_arena, settle

    one_arena()  # before any thread starts

    import os
    import subprocess

    # Migrate in a short-lived process while this one imports and loads its models:
    # Alembic and the migration scripts never take memory in the serving process, and
    # nothing is served before the database is at the head revision. Started first, it
    # runs beside the imports, which take one core.
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "NLU_MODEL_PATH": str(settings.nlu_model_path),
    }
    migrate = subprocess.Popen([sys.executable, "-m", "bot", "db", "upgrade"], env=env)

    import uvicorn

    from bot.app import build
    from bot.nlu.embedded import EmbeddedNlu
    from bot.web.http import PROTOCOLS
    from bot.web.server import create_web_app

    # Train (the first start, or nlu_data/ changed) in a short-lived process too:
    # scikit-learn and SciPy, which training imports, would stay in this one for good.
    fresh = EmbeddedNlu.is_current(settings.nlu_model_path, settings.nlu_data_dir)
    if not fresh and (
        code := subprocess.run([sys.executable, "-m", "bot", "train"], env=env).returncode
    ):
        log.error("training the NLU failed (exit code %d): not serving", code)
        migrate.wait()
        return 1
    app = create_web_app(build(settings))
    if (code := migrate.wait()) != 0:
        log.error("migrating the database failed (exit code %d): not serving", code)
        return 1
    settle()  # before serving: freeze what start-up made, free what it no longer needs
    log.info("serving on http://%s:%d (API docs at /docs)", settings.host, settings.port)
    # Open chat event streams never end by themselves: stop waiting for them after 5 s.
    # log_config=None: uvicorn's loggers (errors, access lines) go through the bot's own
    # handler, which masks personal data, instead of handlers of uvicorn's.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,
        timeout_graceful_shutdown=5,
        **PROTOCOLS,  # uvicorn's httptools protocol, request heads up to 64 KiB; no WebSocket
    )
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.terminal import run_chat

    return asyncio.run(run_chat(settings, args.lang, args.timezone))


def _detect(settings: Settings, _: argparse.Namespace) -> int:
    from bot.langid import LanguageDetector

    detector = LanguageDetector(settings.nlu_model_path.parent)
    for line in sys.stdin:
        detection = detector.detect(line.rstrip("\n"))
        print(detection.language or "und", flush=True)
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    import psycopg
    from sqlalchemy.exc import OperationalError

    from bot.storage import db

    try:
        if args.action == "upgrade":
            db.upgrade(settings.database_url, args.revision or "head")
        elif args.action == "downgrade":
            db.downgrade(settings.database_url, args.revision or "-1")
        else:
            db.current(settings.database_url)
    except (db.UnusableDatabase, OperationalError, psycopg.OperationalError) as error:
        # What an operator can act on, without a traceback: the encoding, or the server's
        # own words on why it cannot be reached.
        reason = error.orig if isinstance(error, OperationalError) else error
        print(f"database error: {reason}", file=sys.stderr)
        return 2
    return 0


def _train(settings: Settings, _: argparse.Namespace) -> int:
    from bot.nlu.training import train_and_save

    train_and_save(settings)
    return 0


def _evaluate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu.evaluate_command import evaluate

    evaluate(settings, Path(args.out), args.folds)
    return 0


def _demo_data(settings: Settings, _: argparse.Namespace) -> int:
    from bot.orders.demo import load_demo
    from bot.storage.db import create_engine, upgrade

    upgrade(settings.database_url)

    async def load() -> list[str]:
        engine = create_engine(settings.database_url)
        try:
            return await load_demo(engine)
        finally:
            await engine.dispose()

    report = asyncio.run(load())
    for line in report:
        print(line)
    added = sum(line.endswith("[added]") for line in report)
    print(f"{added} added, {len(report) - added} already there")
    return 0


def _agents(settings: Settings, args: argparse.Namespace) -> int:
    from bot.handoff.cli import run_agents

    return asyncio.run(run_agents(settings, args))


def parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    top = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "serve", help="run the web chat API, widget and agent console (and Telegram if set)"
    )
    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--lang", help="your language, as a hint (e.g. de, zh-Hant)")
    chat.add_argument("--timezone", help="your IANA time zone (e.g. Europe/Berlin)")
    commands.add_parser("detect", help="read lines on stdin, print one language tag per line")
    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?", help="target revision (upgrade: head)")
    commands.add_parser("train", help="train the embedded NLU from nlu_data/")
    evaluate = commands.add_parser(
        "evaluate", help="evaluate the NLU (held-out split, cross-validation, report)"
    )
    evaluate.add_argument("--out", default="reports", help="folder for the report files")
    evaluate.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    commands.add_parser("demo-data", help="load a demo catalogue of customers and orders")
    agents = commands.add_parser("agents", help="manage support agents (add, list, disable)")
    agent_actions = agents.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = agent_actions.add_parser(
        "add", help="add an agent; the password is asked for (or read from stdin)"
    )
    add.add_argument("login", help="the agent's login (lower case)")
    add.add_argument("--name", required=True, help="the name customers see")
    add.add_argument(
        "--languages", required=True, help="languages the agent speaks, e.g. en,de,zh-Hant"
    )
    add.add_argument("--max-chats", type=int, default=3, help="parallel chats (default 3)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    agent_actions.add_parser("list", help="list the agents")
    disable = agent_actions.add_parser("disable", help="disable an agent and end their sessions")
    disable.add_argument("login")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status."""
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    handlers = {
        "serve": _serve,
        "chat": _chat,
        "detect": _detect,
        "db": _db,
        "train": _train,
        "evaluate": _evaluate,
        "demo-data": _demo_data,
        "agents": _agents,
    }
    return handlers[args.command](settings, args)
