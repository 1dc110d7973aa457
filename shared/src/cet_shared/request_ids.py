"""The request id: the gateway's `$request_id` (X-Request-ID), or our own when called directly.

It is in every log line written while the request is answered, and in the answer's X-Request-ID,
so an operator gets from a complaint to the gateway's access log, the service's log and the trace.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cet_shared.logs import request_id

HEADER = b"x-request-id"
# What we accept from upstream: nginx's 32 hex digits, or any similar opaque token (never free text).
_ACCEPTABLE = re.compile(rb"[A-Za-z0-9._-]{8,64}")


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", ())).get(HEADER)
        rid = given.decode() if given and _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER, rid.encode())]
            await send(message)

        token = request_id.set(rid)
        await self.app(scope, receive, sending)
        # Not reset when the app raised: the 500 handler, outside every middleware, logs the
        # error with the id. Each request runs in its own task, so the id ends with it.
        request_id.reset(token)
