"""compose.yaml and deploy/nginx.conf: checked by Compose itself, then run on loopback.

These run in every test run, with no Docker engine (``tests/test_stack.py`` runs the
stack in containers, from ``scripts/compose-stack --test``). Here:

- Compose (Debian's ``docker-compose``, which ``.ci/run`` installs) validates the file
  and resolves it, as ``docker compose up`` would before starting anything;
- the resolved services are then run as local processes: the ``migrate`` command, the
  two app services' command and environment, and nginx (Debian's, which ``.ci/run``
  installs) with ``deploy/nginx.conf`` in front of them. Only what names a host of the
  compose network is rewritten to loopback: PostgreSQL's and Redis's addresses, and the
  upstream servers of nginx.conf.

A conversation then goes through the load balancer as in production: its event stream
is held by one process, an agent answers through the other, and the reply arrives. A client
that names other addresses in ``X-Forwarded-For`` is still limited by its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.cli import parser
from bot.config import Settings
from tests.processes import (
    ROOT,
    BotProcess,
    add_agent,
    agent_session,
    answer_next_ticket,
    free_port,
    listen,
    say,
    wait_for,
)

COMPOSE = ROOT / "compose.yaml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
APPS = ("app1", "app2")
#: Where the app images keep their venv (the Dockerfile's ``make install VENV=/opt/venv``).
IMAGE_PYTHON = "/opt/venv/bin/python"
#: Variables a shop may set for compose.yaml: unset, the file's defaults are what is checked.
COMPOSE_VARIABLES = (
    "POSTGRES_PASSWORD",
    "LOG_LEVEL",
    "NLU_BACKEND",
    "PORT",
    "PUBLISH_ADDRESS",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
)


def tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(f"{name} is not installed: install Debian's {name} (.ci/run does)")
    return path


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """compose.yaml as Compose resolves it, with every profile (Rasa's too)."""
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_VARIABLES}
    result = subprocess.run(
        [tool("docker-compose"), "--file", str(COMPOSE), "--profile", "rasa", "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"Compose refuses compose.yaml:\n{result.stderr}"
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def image_command(command: list[str]) -> list[str]:
    """A service's command, run by this interpreter instead of the image's."""
    assert command[0] == IMAGE_PYTHON, command
    return [sys.executable, *command[1:]]


def published(port: str | dict[str, Any]) -> tuple[str, str, str]:
    """A published port as (host address, host port, container port), in either of the
    forms Compose resolves it to (``0.0.0.0:8000:80/tcp``, or a mapping)."""
    if isinstance(port, str):
        address, host, container = port.split("/")[0].rsplit(":", 2)
        return address, host, container
    return str(port.get("host_ip", "")), str(port["published"]), str(port["target"])


def test_compose_validates_the_file_and_its_services_are_the_bots_own_commands(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    assert set(services) == {"migrate", *APPS, "lb", "postgres", "redis", "rasa"}
    first, second = (services[name] for name in APPS)
    assert first["environment"] == second["environment"]
    assert first["command"] == second["command"]
    # Each command is one the bot's command line accepts, the serving one and the migration.
    assert parser().parse_args(image_command(first["command"])[3:]).command == "serve"
    migrate = parser().parse_args(image_command(services["migrate"]["command"])[3:])
    assert (migrate.command, migrate.action) == ("db", "upgrade")
    # The environment is one the bot accepts: the same settings as any other deployment.
    settings = Settings.from_env(first["environment"])
    assert settings.database_url.startswith("postgresql://")
    assert settings.redis_url and settings.nlu_backend == "embedded"
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)
    # The load balancer publishes nginx.conf's port and waits for both processes.
    assert {published(port) for port in services["lb"]["ports"]} == {("0.0.0.0", "8000", "80")}
    assert set(services["lb"]["depends_on"]) == set(APPS)
    assert any("/healthz" in part for part in first["healthcheck"]["test"])


def test_compose_rejects_a_misspelt_file(tmp_path: Path) -> None:
    """The check above can fail: Compose refuses a file with an unknown option."""
    broken = tmp_path / "compose.yaml"
    broken.write_text(
        COMPOSE.read_text(encoding="utf-8").replace("    command: [", "    comand: [", 1),
        encoding="utf-8",
    )
    result = subprocess.run(
        [tool("docker-compose"), "--file", str(broken), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "comand" in result.stderr


def on_loopback(environment: dict[str, str], postgres_url: str, redis_url: str) -> dict[str, str]:
    """The app services' environment with the compose network's hosts made local ones."""
    local = dict(environment)
    assert "@postgres:5432/" in local["DATABASE_URL"]
    assert local["REDIS_URL"].startswith("redis://redis:6379/")
    local["DATABASE_URL"], local["REDIS_URL"] = postgres_url, redis_url
    return local


@contextmanager
def nginx(upstreams: dict[str, int], listen_port: int) -> Iterator[str]:
    """Debian's nginx with deploy/nginx.conf, as the ``lb`` service mounts it; yields its URL."""
    site = NGINX_CONF.read_text(encoding="utf-8")
    assert site.count("listen 80;") == 1
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    for service, port in upstreams.items():
        assert site.count(f"server {service}:8000 ") == 1, service
        site = site.replace(f"server {service}:8000 ", f"server 127.0.0.1:{port} ")
    prefix = Path(tempfile.mkdtemp(prefix="nginx-"))
    prefix.chmod(0o777)  # its workers run as an unprivileged user when started by root
    (prefix / "default.conf").write_text(site, encoding="utf-8")
    # The main file of the nginx image, in short: default.conf is included inside http.
    (prefix / "nginx.conf").write_text(
        "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {prefix}/access.log;\n"
        f"  client_body_temp_path {prefix}/body;\n"
        f"  proxy_temp_path {prefix}/proxy;\n"
        f"  include {prefix}/default.conf;\n"
        "}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [tool("nginx"), "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{listen_port}"
    try:
        wait_for(lambda: process.poll() is not None or _answers(f"{url}/healthz"), timeout=30)
        log = (prefix / "error.log").read_text() if (prefix / "error.log").exists() else ""
        assert process.poll() is None, f"nginx exited: {log}"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(prefix, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


#: Requests a minute per client address in the composed services' test (a low limit).
ADDRESS_LIMIT = 10


def spoofing_is_refused(lb: str) -> bool:
    """Whether a client that names another address in each request is still rate-limited.

    The limit counts in fixed one-minute windows, so ``2 * ADDRESS_LIMIT + 4`` messages
    pass it within one window even when a new window starts among them.
    """
    created = httpx.post(f"{lb}/api/v1/conversations", timeout=30).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    for number in range(2 * ADDRESS_LIMIT + 4):
        answer = httpx.post(
            f"{lb}/api/v1/conversations/{created['id']}/messages",
            headers={**auth, "X-Forwarded-For": f"198.51.100.{number}"},
            json={"text": "Hello"},
            timeout=30,
        )
        if answer.status_code == 429:
            return True
        assert answer.status_code == 200, answer.text
    return False


@pytest.mark.postgres
@pytest.mark.redis
def test_the_composed_services_serve_one_conversation_through_the_load_balancer(
    resolved: dict[str, Any], postgres_url: str, nlu_model_path: Path, parts: Any
) -> None:
    services = resolved["services"]
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    env = on_loopback(services["app1"]["environment"], postgres_url, redis_url)
    env |= {
        "NLU_MODEL_PATH": str(nlu_model_path),
        "WEBCHAT_HEARTBEAT_SECONDS": "1",
        "RATE_LIMIT_PER_ADDRESS": str(ADDRESS_LIMIT),
    }
    # The migrate service first (compose starts the apps once it has exited with 0).
    migrated = subprocess.run(
        image_command(services["migrate"]["command"]),
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    apps = [BotProcess(env) for _ in APPS]
    try:
        for app in apps:
            app.wait_ready()
        add_agent(env)
        with nginx(dict(zip(APPS, (app.port for app in apps), strict=True)), free_port()) as lb:
            created = httpx.post(f"{lb}/api/v1/conversations", timeout=30).json()
            auth = {"Authorization": f"Bearer {created['token']}"}
            path = f"{lb}/api/v1/conversations/{created['id']}"
            # The customer's stream stays open on one process, unbuffered by nginx.
            events, listener = listen(f"{path}/events", auth, "Anna here", len(APPS))
            asked = say(lb, created, "I want to talk to a person")
            assert any(reply["action"] == "handoff" for reply in asked), asked
            # The agent writes twice: nginx sends one reply to each process.
            ticket = answer_next_ticket(lb, agent_session(lb), "Hi, Anna here.", len(APPS))
            listener.join(timeout=30)
            lines = list(events.queue)
            received = [e for e in lines if e.startswith("data:") and "Anna here" in e]
            assert len(received) == len(APPS), lines
            assert spoofing_is_refused(lb)
        # nginx takes turns: each process logged one of the agent's two replies.
        for app in apps:
            log = Path(app.log.name).read_text(errors="replace")
            assert f"POST /api/v1/agent/tickets/{ticket}/messages" in log, app.output()
    finally:
        for app in apps:
            app.stop()
