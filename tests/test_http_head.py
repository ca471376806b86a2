"""Request heads (request line and headers) over 64 KiB are refused: 431, then the
connection closes. Over real sockets, on the test server and on ``python -m bot serve``."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import uvicorn
from uvicorn.server import ServerState

from bot.web.http import MAX_HEAD_BYTES, BoundedHttpTools
from tests.processes import BotProcess


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    connection = socket.create_connection((parts.hostname, parts.port), timeout=20)
    return connection


def read_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def send_long_header(url: str, size: int) -> bytes:
    """Send a request whose one header is ``size`` bytes long; return the answer."""
    connection = connect(url)
    with connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nX-Long: ")
        piece = b"a" * 65536
        for _ in range(0, size, len(piece)):
            connection.sendall(piece)
        connection.sendall(b"\r\n\r\n")
        return read_all(connection)


def assert_refused(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"connection: close" in head.lower()
    error = json.loads(body)["error"]
    assert error["code"] == "headers_too_large"
    assert str(MAX_HEAD_BYTES) in error["message"]


def test_a_10_mb_header_is_refused_early_and_the_server_goes_on(server: str) -> None:
    # before the limit, this was read whole and answered 200 (a 100 MB one took 17 s of CPU)
    assert_refused(send_long_header(server, 10_000_000))
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}


def test_a_long_url_counts_as_head_too(server: str) -> None:
    connection = connect(server)
    with connection:
        connection.sendall(b"GET /healthz?q=" + b"a" * 300_000)
        assert_refused(read_all(connection))


def test_heads_under_the_limit_and_pipelined_requests_are_served(server: str) -> None:
    big_header = "a" * (MAX_HEAD_BYTES - 2048)
    response = httpx.get(f"{server}/healthz", headers={"X-Long": big_header})
    assert response.status_code == 200, response.text
    # a 200 KiB body and the next request's head in one write: the body is not counted as
    # the second request's head
    body = json.dumps({"text": "a" * 200_000}).encode()
    first = (
        b"POST /api/v1/conversations HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    second = b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n"
    connection = connect(server)
    with connection:
        connection.sendall(first + second)
        answers = read_all(connection)
    assert answers.count(b"HTTP/1.1 ") == 2, answers[:300]
    assert b" 431 " not in answers
    assert answers.rstrip().endswith(b'{"status":"ok"}')


def test_serve_refuses_a_long_head_and_speaks_no_websocket(  # type: ignore[no-untyped-def]
    tmp_path: Path, nlu_model_path: Path, parts
) -> None:
    bot = BotProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "NLU_MODEL_PATH": str(nlu_model_path),
        }
    )
    try:
        bot.wait_ready()
        connection = connect(bot.url)
        with connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nX-Long: " + b"a" * 200_000)
            assert_refused(read_all(connection))
        assert "request refused: its head is over 65536 bytes" in bot.output()
        assert httpx.get(f"{bot.url}/healthz").status_code == 200
        # no WebSocket protocol: a request to upgrade is served as plain HTTP (with one,
        # the handshake to a path without a WebSocket route is refused: 403), unlogged
        upgrade = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        }
        answer = httpx.get(f"{bot.url}/healthz", headers=upgrade)
        assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
        assert "Unsupported upgrade request" not in bot.output()
        assert "WebSocket" not in bot.output()
    finally:
        bot.stop()


class Transport(asyncio.Transport):
    """What the protocol writes, for reads given whole (as the socket test cannot force)."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = self.eof = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def protocol() -> tuple[BoundedHttpTools, Transport]:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    config = uvicorn.Config(app, log_level="warning")
    config.load()
    made = BoundedHttpTools(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    made.connection_made(transport)
    return made, transport


async def test_a_read_ending_a_body_and_beginning_a_head_is_not_counted_as_head() -> None:
    body = b"a" * 200_000
    first = b"POST / HTTP/1.1\r\nHost: bot\r\nContent-Length: 200000\r\n\r\n"
    second = b"GET / HTTP/1.1\r\nHost: bot\r\n\r\n"
    made, transport = protocol()
    made.data_received(first + body[:1000])
    # one read: the body's end and the beginning of the next head, then the head's end
    made.data_received(body[1000:] + second[:20])
    made.data_received(second[20:])
    for _ in range(20):
        await asyncio.sleep(0)
    assert transport.written.count(b"HTTP/1.1 200 OK") == 2, transport.written
    assert not transport.eof and not transport.closed


async def test_a_head_over_the_limit_in_one_read_is_refused_and_later_bytes_dropped() -> None:
    made, transport = protocol()
    made.data_received(b"GET / HTTP/1.1\r\nHost: bot\r\nX-Long: " + b"a" * 10_000)
    assert transport.written == b""
    made.data_received(b"a" * MAX_HEAD_BYTES)  # (the read that began it is not counted)
    assert transport.written == b""
    made.data_received(b"a")
    assert_refused(transport.written)
    assert transport.eof and not transport.closed  # lingering: closed later
    made.data_received(b"a" * 1_000_000)  # dropped, not parsed
    assert transport.written.count(b"HTTP/1.1") == 1
    made.connection_lost(None)
