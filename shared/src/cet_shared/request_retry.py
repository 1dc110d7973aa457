"""Requests that PostgreSQL chose as a deadlock or serialization victim run again.

The victim's transaction was rolled back whole, so running the request again is running its
transaction again: the candidate sees the answer of the second try, not a 500. The body is read
once and replayed; a response that has started is never retried. What still fails after the last
attempt is answered 503 with Retry-After (`cet_shared.problems`).
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cet_shared.resilience import Backoff, is_conflict, sqlstate

log = logging.getLogger(__name__)


class RetryConflicts:
    def __init__(self, app: ASGIApp, attempts: int = 4) -> None:
        self.app = app
        self.attempts = attempts
        self.retried = 0  # figures for drills

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        backoff = Backoff(first=0.02, cap=0.4)
        for attempt in range(1, self.attempts + 1):
            pending = list(body)
            started = False

            async def replay() -> Message:
                return pending.pop(0) if pending else await receive()

            async def tracking(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await self.app(scope, replay, tracking)
                return
            except Exception as error:
                if started or attempt == self.attempts or not is_conflict(error):
                    raise
                self.retried += 1
                log.info("%s %s: %s, running the request again (%d/%d)", scope.get("method"), scope.get("path"), sqlstate(error), attempt, self.attempts)
                await backoff.wait()


async def _read_body(receive: Receive) -> list[Message]:
    # BodySizeLimit (outside this middleware) already refused anything over the limit.
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages
