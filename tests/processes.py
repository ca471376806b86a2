"""Helpers for tests that run the bot as real processes: ``python -m bot serve`` and a
private PostgreSQL server that a test may stop and start without disturbing others."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """One ``python -m bot serve`` process on a loopback port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        full = {**inherited, **env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by stop()
            prefix="bot-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=ROOT,
            env=full,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited: {self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the bot did not start: {self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
        os.unlink(self.log.name)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]


@contextmanager
def bots(count: int, env: dict[str, str]) -> Iterator[list[BotProcess]]:
    """``count`` bot processes, started together and stopped afterwards."""
    started = [BotProcess(env) for _ in range(count)]
    try:
        for bot in started:
            bot.wait_ready()
        yield started
    finally:
        for bot in started:
            bot.stop()


class PrivatePostgres:
    """A PostgreSQL server of its own (initdb in a temporary folder), run as ``postgres``."""

    def __init__(self) -> None:
        bin_dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bin_dirs:
            raise RuntimeError("PostgreSQL's server binaries are not installed")
        self.bin = bin_dirs[-1]
        self.folder = Path(tempfile.mkdtemp(prefix="pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args]
        if os.geteuid() != 0:
            command = [str(self.bin / tool), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def listen(
    url: str, headers: dict[str, str], until: str, count: int = 1
) -> tuple[queue.Queue[str], threading.Thread]:
    """Read an event stream on a thread until ``count`` data lines hold ``until``; every
    line is put on the queue. Returns once the stream's ``ready`` event has arrived."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        seen = 0
        with httpx.stream("GET", url, headers=headers, timeout=30) as stream:
            for line in stream.iter_lines():
                lines.put(line)
                if line.startswith("data:") and until in line:
                    seen += 1
                    if seen == count:
                        return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_for(lambda: any(line.startswith("event: ready") for line in list(lines.queue)))
    return lines, reader


def say(url: str, conversation: dict[str, str], text: str) -> list[dict[str, Any]]:
    """Post a customer message in ``conversation`` (as created by the API); the replies."""
    answer = httpx.post(
        f"{url}/api/v1/conversations/{conversation['id']}/messages",
        headers={"Authorization": f"Bearer {conversation['token']}"},
        json={"text": text},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    replies: list[dict[str, Any]] = answer.json()["replies"]
    return replies


AGENT_PASSWORD = "correct horse battery"


def add_agent(env: dict[str, str], login: str = "anna") -> None:
    """Add an English-speaking agent with ``python -m bot agents add``, as a shop does."""
    subprocess.run(
        [sys.executable, "-m", "bot", "agents", "add", login, "--name", login.title(),
         "--languages", "en", "--password-stdin"],
        input=f"{AGENT_PASSWORD}\n", text=True, check=True, capture_output=True,
        env={**os.environ, **env}, timeout=120,
    )  # fmt: skip


def agent_session(url: str, login: str = "anna") -> dict[str, str]:
    """Log the agent in through the API at ``url``; the console session's header."""
    answer = httpx.post(
        f"{url}/api/v1/agent/login",
        json={"login": login, "password": AGENT_PASSWORD},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def answer_next_ticket(url: str, session: dict[str, str], text: str, times: int = 1) -> int:
    """Take the next ticket of the queue and write ``text`` in it ``times`` times; its id."""
    with httpx.Client(base_url=f"{url}/api/v1/agent", timeout=30) as agent:
        ticket = int(agent.post("/tickets/next", headers=session).json()["id"])
        for _ in range(times):
            sent = agent.post(f"/tickets/{ticket}/messages", headers=session, json={"text": text})
            assert sent.status_code == 204, sent.text
    return ticket
