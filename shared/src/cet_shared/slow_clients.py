"""Deadlines for slow clients on the services' own ports, and aborted uploads answered quietly.

uvicorn times out only an idle keep-alive connection: a client that connects and trickles its
request head (or its body) one byte at a time holds a connection and a coroutine as long as it
likes. `TimedHttpProtocol` is uvicorn's httptools protocol with the two deadlines it lacks: the
request head within API_HEADER_TIMEOUT seconds of the connection (or of the first byte of the next
request), the whole body within API_BODY_TIMEOUT seconds of the head. Past one, the connection is
closed; a handler still reading the body sees the client gone (ClientDisconnect), which
`install_disconnect_handler` answers with a 400 instead of an error in the log.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from fastapi import FastAPI, Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cet_shared.problems import Problem, problem_response


class TimedHttpProtocol(HttpToolsProtocol):
    header_timeout = float(os.environ.get("API_HEADER_TIMEOUT", "10"))
    body_timeout = float(os.environ.get("API_BODY_TIMEOUT", "60"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def install_disconnect_handler(app: FastAPI) -> None:
    """A client that went away mid-body is not a server error: 400 (nobody reads it), no log line."""

    async def _gone(request: Request, exc: Exception) -> Response:  # a ClientDisconnect
        return problem_response(Problem(400, "client_disconnected", "连接已中断，请重新提交"), request)

    app.add_exception_handler(ClientDisconnect, _gone)
