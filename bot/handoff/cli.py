"""``python -m bot agents add|list|disable``: manage support agents from the shell.

The password is asked for twice at a prompt (never an argument: it would show in the
process list and the shell history), or read from stdin with ``--password-stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.config import Settings
from bot.handoff.agents import AgentDirectory, AgentInfo
from bot.handoff.errors import HandoffError
from bot.storage.db import create_engine, upgrade


def _password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        print("the passwords differ", file=sys.stderr)
        return None
    return first


def _row(agent: AgentInfo) -> str:
    state = "active" if agent.active else "disabled"
    seen = agent.last_seen.isoformat(timespec="seconds") if agent.last_seen else "-"
    languages = ",".join(agent.languages)
    return f"{agent.login}\t{agent.name}\t{languages}\t{agent.max_chats}\t{state}\t{seen}"


async def run_agents(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``agents`` action; return the exit status."""
    upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    directory = AgentDirectory(engine)
    try:
        if args.action == "add":
            password = _password(args.password_stdin)
            if password is None:
                return 2
            agent = await directory.add(
                args.login, args.name, password, args.languages.split(","), args.max_chats
            )
            print(f"added {_row(agent)}")
        elif args.action == "list":
            print("login\tname\tlanguages\tmax_chats\tstate\tlast_seen")
            for agent in await directory.list():
                print(_row(agent))
        else:
            agent = await directory.disable(args.login)
            print(f"disabled {agent.login}")
        return 0
    except (HandoffError, ValueError) as error:
        message = f"{error.code}: {error}" if isinstance(error, HandoffError) else str(error)
        print(f"error: {message}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
