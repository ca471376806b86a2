"""Where a message's CPU goes: the core of a message alone, then with each framework layer.

A core server does what every message needs at least: the bot's own language detector and
NLU, and a turn shaped as the store's on PostgreSQL (BEGIN, the conversation locked
``FOR UPDATE`` and a peek in one pipelined round trip; one statement writing the message
and a reply and updating the conversation; COMMIT), with JSON in and out, on Starlette
under uvicorn and a queue of ten psycopg connections. Its tables are its own (``f_conv``,
``f_msg``), in a fresh schema. The layers the bot adds on top are switched on one at a time:

- ``sqlalchemy``: the turn inside SQLAlchemy's ``engine.begin()`` (the bot's engine
  settings, :func:`bot.storage.db.create_engine`), its statements on the connection under;
- ``fastapi``: the message endpoint declared in FastAPI with the bot's ``MessageIn`` and
  ``Replies``, its token read from a ``Header`` parameter; ``direct``: the same endpoint
  on the bot's :class:`bot.web.direct.DirectRoute`, as the bot declares it.

Then the bot itself (``python -m bot serve``). Each runs alone, one process, the load
client of ``benchmarks/load.py`` at 10 concurrent conversations, all variants in turn,
``--rounds`` times. Printed: messages per second, p99 latency, the server's CPU per message
and PostgreSQL's (all its processes). The difference between the core and the bot is what
the bot's steps and layers cost; it prints figures and asserts nothing.

Run: .venv/bin/python benchmarks/layers.py [--rounds 2] [--conversations 500]
PostgreSQL: 127.0.0.1:5432, database ``test`` (BENCH_POSTGRES_URL).
"""

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import load  # noqa: E402

LOCK = "SELECT id, state, language FROM f_conv WHERE id = %(c)s FOR UPDATE"
PEEK = (
    "SELECT (SELECT id FROM f_msg WHERE conv = %(c)s AND cmid = %(m)s),"
    " (SELECT count(*) FROM f_msg WHERE conv = %(c)s AND cmid IS NULL AND body = 'ticket')"
)
WRITE = (
    "WITH r AS (INSERT INTO f_msg (conv, cmid, body, lang, intent, created)"
    " VALUES (%(c)s, %(m)s, %(t)s, %(l)s, %(i)s, now()) RETURNING id),"
    " o AS (INSERT INTO f_msg (conv, body, lang, intent, reply_to, created)"
    " SELECT %(c)s, %(rt)s, %(l)s, %(i)s, id, now() FROM r),"
    " u AS (UPDATE f_conv SET state = %(s)s, language = %(l)s WHERE id = %(c)s)"
    " SELECT id FROM r"
)
TABLES = (
    "CREATE TABLE f_conv (id text PRIMARY KEY, state jsonb, language text);"
    "CREATE TABLE f_msg (id bigserial PRIMARY KEY, conv text REFERENCES f_conv, cmid text,"
    " body text, lang text, intent text, reply_to bigint, created timestamptz);"
    "CREATE INDEX f_msg_cm ON f_msg (conv, cmid)"
)
VARIANTS: dict[str, dict[str, str]] = {
    "core (Starlette, psycopg)": {},
    "core + SQLAlchemy's transaction": {"LAYERS": "sqlalchemy"},
    "core + FastAPI endpoint": {"LAYERS": "fastapi"},
    "core + both": {"LAYERS": "sqlalchemy,fastapi"},
    "core + FastAPI, DirectRoute": {"LAYERS": "fastapi,direct"},
}


def core_app() -> Any:
    """The core server (run in its own process by ``layers.py serve``)."""
    import psycopg
    from psycopg.types.json import Json
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from bot.langid import LanguageDetector
    from bot.nlu.embedded import EmbeddedNlu
    from bot.storage.db import create_engine

    url, model = os.environ["CORE_DATABASE_URL"], Path(os.environ["NLU_MODEL_PATH"])
    layers = set(filter(None, os.environ.get("LAYERS", "").split(",")))
    nlu = EmbeddedNlu.load_or_train(model, ROOT / "nlu_data", 0.3)
    detector = LanguageDetector(model.parent)
    engine = create_engine(url) if "sqlalchemy" in layers else None
    pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    tokens: dict[str, str] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        for _ in range(10):
            pool.put_nowait(await psycopg.AsyncConnection.connect(url))
        yield
        while not pool.empty():
            await pool.get_nowait().close()
        if engine is not None:
            await engine.dispose()

    async def turn(driver: psycopg.AsyncConnection[Any], params: dict[str, Any]) -> None:
        async with driver.pipeline():
            locked, peeked = driver.cursor(), driver.cursor()
            await locked.execute(LOCK, params)
            await peeked.execute(PEEK, params)
        await locked.fetchone()
        await peeked.fetchone()
        written = driver.cursor()
        await written.execute(WRITE, params | {"s": Json({"misses": 0})})
        await written.fetchone()

    async def answer(conversation: str, authorization: str | None, body: Any) -> dict[str, Any]:
        if authorization != f"Bearer {tokens.get(conversation)}":
            raise PermissionError(conversation)
        text = body["text"]
        language = detector.detect(text).language or "en"
        parse = nlu.predict(text)
        reply = f"answer to {parse.intent}"
        params = {"c": conversation, "m": body.get("client_message_id"), "t": text}
        params |= {"l": language, "i": parse.intent, "rt": reply}
        if engine is not None:
            async with engine.begin() as connection:
                raw = await connection.get_raw_connection()
                await turn(raw.driver_connection, params)  # type: ignore[arg-type]
        else:
            driver = await pool.get()
            try:
                await turn(driver, params)
                await driver.commit()
            finally:
                pool.put_nowait(driver)
        return {"replies": [{"text": reply, "language": language, "intent": parse.intent}]}

    async def create(_: Request) -> Response:
        conversation, token = str(uuid.uuid4()), secrets.token_urlsafe(32)
        driver = await pool.get()
        try:
            await driver.execute("INSERT INTO f_conv VALUES (%s, '{}', NULL)", (conversation,))
            await driver.commit()
        finally:
            pool.put_nowait(driver)
        tokens[conversation] = token
        body = json.dumps({"id": conversation, "token": token})
        return Response(body, 201, media_type="application/json")

    async def message(request: Request) -> Response:
        body = json.loads(await request.body())
        authorization = request.headers.get("authorization")
        replies = await answer(request.path_params["cid"], authorization, body)
        return Response(json.dumps(replies), media_type="application/json")

    async def healthz(_: Request) -> Response:
        return Response('{"status": "ok"}', media_type="application/json")

    if "fastapi" not in layers:
        routes = [
            Route("/api/v1/conversations", create, methods=["POST"]),
            Route("/api/v1/conversations/{cid}/messages", message, methods=["POST"]),
            Route("/healthz", healthz),
        ]
        return Starlette(routes=routes, lifespan=lifespan)

    from fastapi import FastAPI, Header
    from fastapi import Request as FastApiRequest

    from bot.core import Action
    from bot.web.direct import DirectRoute
    from bot.web.schemas import MessageIn, Replies, ReplyOut

    app = FastAPI(lifespan=lifespan)
    app.add_route("/api/v1/conversations", create, methods=["POST"])
    app.add_route("/healthz", healthz)

    async def post_message(
        request: FastApiRequest,
        conversation_id: str,
        message: MessageIn,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Replies:
        answered = await answer(conversation_id, authorization, message.model_dump())
        return Replies(
            replies=[
                ReplyOut(**r, action=Action.ANSWER, suggestions=[], details={}, ticket=None)
                for r in answered["replies"]
            ]
        )

    route = {"route_class_override": DirectRoute} if "direct" in layers else {}
    app.router.add_api_route(
        "/api/v1/conversations/{conversation_id}/messages",
        post_message,
        methods=["POST"],
        response_model=Replies,
        **route,
    )
    return app


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process so far (the ones that ended are not counted)."""
    total = 0.0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().startswith("postgres"):
                total += load.cpu_seconds(int(comm.parent.name))
    return total


def start_core(url: str, model: Path, folder: Path, layers: dict[str, str]) -> load.Server:
    port = load.free_port()
    env = os.environ | layers | {"CORE_DATABASE_URL": url, "NLU_MODEL_PATH": str(model)}
    env["PORT"] = str(port)
    command = [sys.executable, str(Path(__file__).resolve()), "serve"]
    return load.start(command, env, f"http://127.0.0.1:{port}/healthz", folder / "core.log")


def measure(name: str, server: load.Server, conversations: int) -> None:
    async def conversation(session: load.Session, number: int, phase: load.Phase) -> None:
        await load.app_conversation(session, [server.url], number, 10, phase)

    asyncio.run(load.run_level(conversation, 1, 6))  # warm up
    cpu, database = load.cpu_seconds(server.process.pid), postgres_cpu()
    phase = asyncio.run(load.run_level(conversation, 10, conversations))
    done = len(phase.latencies) or 1
    server_ms = (load.cpu_seconds(server.process.pid) - cpu) / done * 1000
    database_ms = (postgres_cpu() - database) / done * 1000
    print(
        f"  {name:34} {len(phase.latencies) / phase.wall:7.1f} msg/s "
        f"p99 {load.percentile(phase.latencies, 0.99) * 1000:6.1f} ms  "
        f"server {server_ms:.3f} ms/msg  PostgreSQL {database_ms:.3f} ms/msg  "
        f"errors {sum(phase.errors.values())}",
        flush=True,
    )


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--conversations", type=int, default=500)
    args = parser.parse_args()
    print(f"layers benchmark: 1 process, 10 concurrent conversations, {args.conversations}")
    print(
        f"  conversations of 10 messages; loop of 10 million additions {load.python_speed():.2f} s"
    )
    with tempfile.TemporaryDirectory(prefix="xoobay-layers-") as tmp:
        folder = Path(tmp)
        model = load.trained_model(folder)
        for number in range(1, args.rounds + 1):
            print(f"round {number}")
            for name, layers in VARIANTS.items():
                with load.postgres_schema() as url, psycopg.connect(url) as setup:
                    setup.execute(TABLES)
                    setup.commit()
                    server = start_core(url, model, folder, layers)
                    try:
                        measure(name, server, args.conversations)
                    finally:
                        load.stop(server.process)
            with load.postgres_schema() as url:
                server = load.start_apps(1, url, model, folder)[0]
                try:
                    measure("the bot (serve)", server, args.conversations)
                finally:
                    load.stop(server.process)


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        import uvicorn

        port = int(os.environ["PORT"])
        uvicorn.run(core_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    else:
        main()
