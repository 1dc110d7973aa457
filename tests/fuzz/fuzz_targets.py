"""What the fuzz tests hold of one service under test: its ASGI app (closing its context in the
loop its pool lives in), its context, request headers per identity and what was seeded."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import httpx
import schemathesis
from schemathesis.python import asgi as schemathesis_asgi

from cet_shared.testing import TestTokens

WHO = ("anonymous", "candidate", "teacher", "support", "ops")
SERVICES = ("passport", "eligibility", "payment", "enrolment")
SCHOOL = "99301"  # a school of eligibility's demo registry
CAPTCHA_SECRET = "test-only-captcha-secret-not-for-production"
START = datetime(2017, 3, 1, 1, 0, tzinfo=UTC)


class ClosesOnShutdown:
    """The app under test, closing its context when its lifespan ends: in the loop its pool lives in."""

    def __init__(self, app, close: Callable[[], Awaitable[None]]) -> None:
        self.app, self._close = app, close

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_closing(message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self._close()
            await send(message)

        await self.app(scope, receive, send_closing)


@dataclass
class Target:
    """One service under test: its ASGI app, its context, and request headers per identity."""

    name: str
    app: ClosesOnShutdown
    ctx: object
    headers: dict[str, dict[str, str]]
    seeded: dict[str, object] = field(default_factory=dict)

    def client(self) -> schemathesis_asgi.ASGIClient:
        return schemathesis_asgi.get_client(self.app)

    @cached_property
    def schema(self):
        """The OpenAPI schema as the app serves it."""
        return schemathesis.openapi.from_asgi("/openapi.json", self.app)


def intended_callers(service: str, path: str) -> set[str]:
    """Who an operation is for."""
    if service == "passport":
        return {"candidate"} if path.startswith("/me") else {"anonymous"}
    if service == "payment":
        if path.startswith("/notify"):
            return {"anonymous"}
        return {"candidate", "support"} if path in ("/orders/{order_id}", "/registrations/{registration_id}/refresh") else {"candidate"}
    if service == "enrolment" and path.startswith("/ops"):
        return {"ops"}
    for prefix, who in (("/teacher", {"teacher"}), ("/support", {"support"}), ("/registry", {"teacher", "ops"}), ("/account-recovery", {"anonymous"})):
        if path.startswith(prefix):
            return who
    return {"candidate"}


def new_pids() -> dict[str, str]:
    """A fresh passport id per identity that has one."""
    return {who: uuid.uuid4().hex.upper() for who in WHO[1:]}


def token_headers(tokens: TestTokens, pids: dict[str, str]) -> dict[str, dict[str, str]]:
    """Request headers per identity: none for the anonymous caller, a test token for the others."""
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for who in WHO[1:]:
        headers[who] = tokens.headers(pids[who], who, school_code=SCHOOL if who == "teacher" else None)
    return headers


def end_lifespans() -> None:
    # Ends every lifespan schemathesis started (each closes its context in the loop that used it).
    schemathesis_asgi.shutdown_lifespans()


def gateway_down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("gateway unreachable (fuzz tests reach no gateway)", request=request)
