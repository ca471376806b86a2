"""uvicorn's HTTP protocol with a bound on a request's head: :class:`BoundedHttpTools`.

uvicorn's httptools protocol reads a request line and headers of any length: httptools
gathers a header's value piece by piece until its line ends, and uvicorn the URL, so
a 100 MB header was read whole (17 s of one core's CPU for that one request) and then
answered, and a 10 MB one left the process 30 MB larger. uvicorn has a limit for its h11
protocol only (``h11_max_incomplete_event_size``), whose parser is pure Python.

:class:`BoundedHttpTools` counts the bytes a request's head arrives in, and when they
pass :data:`MAX_HEAD_BYTES` before the head is complete it answers 431 with the API's
JSON error (``headers_too_large``). Then it closes its side of the connection and reads
and drops what the client still sends, for at most :data:`LINGER_SECONDS`, before it
closes the connection: closed with unread bytes, the connection is reset, and the client
loses the answer (nginx's "lingering close"). It counts the reads that
went to a head whole (a read in which a request began is not counted, since part of it
may be the end of the previous request), so a head is cut off at most one read of the
socket (256 KiB) after the limit. The rest is uvicorn's own protocol.

The app serves no WebSocket (its event streams are server-sent events), so uvicorn runs
without a WebSocket protocol (:data:`PROTOCOLS`): it no longer imports the ``websockets``
library at start-up (29 ms), and a request asking to upgrade is served as plain HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

#: The largest request line and headers taken (64 KiB): nginx in front (compose.yaml)
#: takes at most 4 lines of 8 KiB, browsers send a few KiB.
MAX_HEAD_BYTES = 64 * 1024
#: How long a refused connection's later bytes are read and dropped before it is closed.
LINGER_SECONDS = 2.0


def headers_too_large(limit: int) -> bytes:
    """The whole HTTP answer to a request whose head is over ``limit`` bytes."""
    message = f"The request line and headers are over the limit of {limit} bytes."
    body = json.dumps({"error": {"code": "headers_too_large", "message": message}}).encode()
    return (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, taking request heads of at most ``limit`` bytes."""

    limit = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False  # between a request's beginning and its headers' end
        self._began = False  # a request began in the read being parsed
        self._head_bytes = 0
        self._lingering: asyncio.TimerHandle | None = None  # refused, closing soon

    def data_received(self, data: bytes) -> None:
        """Parse ``data`` as uvicorn does; refuse the request when its head grew too long."""
        if self._lingering is not None:
            return  # refused: what the client still sends is dropped
        self._began = False
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            if not self._began:  # the whole read went to the head
                self._head_bytes += len(data)
            if self._head_bytes > self.limit:
                self._refuse()

    def _refuse(self) -> None:
        """Answer 431, close this side, and close the connection after lingering."""
        log.warning("request refused: its head is over %d bytes", self.limit)
        transport = self.transport
        transport.write(headers_too_large(self.limit))
        if transport.can_write_eof():
            transport.write_eof()
        self._lingering = asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: no lingering close is left to do."""
        if self._lingering is not None:
            self._lingering.cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        """A request begins: its head is counted from here."""
        super().on_message_begin()
        self._in_head = self._began = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        """The head is complete: no more counting until the next request."""
        self._in_head = False
        super().on_headers_complete()

    def _unsupported_upgrade_warning(self) -> None:
        """A request asked to upgrade (to a WebSocket): it is served as plain HTTP.

        uvicorn logs two warnings for each such request, one telling to install a
        WebSocket library; a client could fill the log with them.
        """
        log.debug("a request asked to upgrade: served as plain HTTP (no WebSocket here)")


#: How uvicorn serves the app (``uvicorn.run(app, **PROTOCOLS)``): its httptools protocol
#: with the bound on a request's head, and no WebSocket protocol.
PROTOCOLS: dict[str, Any] = {"http": BoundedHttpTools, "ws": "none"}
