"""The HTTP server's connection protocol: uvicorn's h11 protocol with a deadline for headers.

uvicorn times out only an idle keep-alive connection between requests. A client that connects
and sends nothing, or sends half a request's headers and stalls (or trickles them a byte at a
time), holds its connection, and a slot of the server's, for as long as it likes. Here a
request's headers must arrive whole within `header_timeout` seconds of the connection opening
or of the request's first byte; otherwise the connection is closed (with a 408 when part of a
request had come). The body is not covered: the body size limit bounds it, and the operation
reading it waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadlineProtocol(H11Protocol):
    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a new connection owes its first request's headers

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of a request (no-op while armed: the time is total)
        super().data_received(data)
        self._disarm_once_headers_came()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            self._arm()  # part of a pipelined request is already waiting
        self._disarm_once_headers_came()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _disarm_once_headers_came(self) -> None:
        if self.conn.their_state is not h11.IDLE:  # the request line and headers are parsed
            self._disarm()

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        partial = bool(self.conn.trailing_data[0])
        self.logger.info(
            "closing a connection whose request headers did not arrive within %ss (%s)",
            self.header_timeout,
            "partly sent" if partial else "nothing sent",
        )
        if partial:  # h11 answers only a whole request: write the answer as it is on the wire
            self.transport.write(_request_timeout(self.header_timeout))
        with contextlib.suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()


def _request_timeout(seconds: float) -> bytes:
    message = f"the request's headers did not arrive within {seconds:g} s"
    body = json.dumps({"error": {"code": "request_timeout", "message": message}}).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def protocol_with_header_timeout(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class to give `uvicorn.run(http=...)`, with its deadline for headers."""

    class HezeHttpProtocol(HeaderDeadlineProtocol):
        header_timeout = seconds

    return HezeHttpProtocol
