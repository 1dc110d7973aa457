"""Slow clients on a service's own port (issue 13): a real uvicorn server on a free port, a client
that trickles its request head one byte at a time, and an upload aborted halfway."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from fastapi import Request
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cet_shared.slow_clients import TimedHttpProtocol
from cet_shared.testing import wait_for
from cet_shared.web import create_app

HEADER_TIMEOUT = 1.0


class QuickTimedProtocol(TimedHttpProtocol):
    header_timeout = HEADER_TIMEOUT
    body_timeout = HEADER_TIMEOUT


def upload_app():
    app = create_app(title="uploads")

    @app.post("/upload")
    async def upload(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    return app


@asynccontextmanager
async def serving(protocol: type) -> AsyncIterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(upload_app(), host="127.0.0.1", port=port, http=protocol, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started, timeout=10, what="uvicorn to start")
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def trickle_until_closed(port: int, give_up_after: float) -> float | None:
    """Sends one header byte every 0.2 s; the seconds until the server closed, or None."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: svc\r\nX-Slow: ")
    try:
        while time.monotonic() - started < give_up_after:
            writer.write(b"a")
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(100), timeout=0.2) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                continue
    except (ConnectionError, OSError):
        return time.monotonic() - started
    finally:
        writer.close()
    return None


async def test_uvicorn_alone_keeps_a_trickling_client_forever_and_ours_closes_it():
    async with serving(HttpToolsProtocol) as port:
        assert await trickle_until_closed(port, give_up_after=HEADER_TIMEOUT * 3) is None, "the finding: no head deadline"
    async with serving(QuickTimedProtocol) as port:
        closed = await trickle_until_closed(port, give_up_after=HEADER_TIMEOUT * 5)
    assert closed is not None and HEADER_TIMEOUT * 0.9 <= closed <= HEADER_TIMEOUT + 1.0, closed


async def test_an_aborted_upload_is_a_400_and_no_error_log(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    async with serving(QuickTimedProtocol) as port:
        # a whole upload passes
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /upload HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        answer = await asyncio.wait_for(reader.read(), timeout=5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200") and b'{"bytes":5}' in answer
        # half an upload, then silence: closed at the body deadline, the handler sees the client gone
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /upload HTTP/1.1\r\nHost: svc\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        started = time.monotonic()
        rest = await asyncio.wait_for(reader.read(), timeout=HEADER_TIMEOUT * 5)
        writer.close()
        assert time.monotonic() - started <= HEADER_TIMEOUT + 1.0
        assert b"500" not in rest[:20], rest
        # a client that hangs up mid-upload
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /upload HTTP/1.1\r\nHost: svc\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        await writer.drain()
        writer.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


async def test_no_redirect_is_built_from_the_host_header():
    """Starlette's trailing-slash redirect put the client's Host into Location (`Host: evil.example`)."""
    from httpx import ASGITransport, AsyncClient

    app = upload_app()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://svc") as client:
        response = await client.post("/upload/", headers={"host": "evil.example"}, content=b"x")
    assert response.status_code == 404 and "location" not in response.headers
    assert response.headers["content-type"].startswith("application/problem+json")
