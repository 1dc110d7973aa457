"""The audit trail (issue 15): every staff action and every money movement, one append-only row each.

Who (actor id + role), when, from which address (the client's as uvicorn sees it behind the gateway:
proxy_headers trusts X-Forwarded-For from FORWARDED_ALLOW_IPS only), the request id that ties the
row to the gateway's and the service's logs, what (kind), the subject, and the before and after.

A use case writes its row with `await audit.record(uow.session, ...)` inside its unit of work, so
the row commits (or rolls back) with the change. The actor comes from the request: the token check
(`cet_shared.auth.current_principal`) notes it in a context variable; a worker's handlers act as
`SYSTEM` unless they say otherwise (`acting_as`).

Each service's own migration creates the table with the trigger `audit_log_append_only`, which
refuses UPDATE and DELETE to everyone and TRUNCATE to everyone but a superuser (test teardown).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, MetaData, Table, Text, func, insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.logs import request_id

TABLE = "audit_log"

audit_log = Table(
    TABLE,
    MetaData(),
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor_id", Text, nullable=False),
    Column("actor_role", Text, nullable=False),
    Column("address", Text),
    Column("request_id", Text),
    Column("kind", Text, nullable=False),
    Column("subject_type", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("candidate", Text),  # the candidate's passport id (or registration id where no passport is known)
    Column("province_code", Text),
    Column("school_code", Text),
    Column("before", JSONB(none_as_null=True)),
    Column("after", JSONB(none_as_null=True)),
)
# The screens filter by one of these and page newest first (keyset on id); as every service's
# audit migration creates them, so autogenerate proposes nothing.
for _column in ("actor_id", "candidate", "school_code", "province_code", "kind"):
    Index(f"audit_log_by_{_column}", audit_log.c[_column], audit_log.c.id.desc())
Index("audit_log_by_time", audit_log.c.at)

# The staff roles, most privileged first: a token with several is recorded under the first it holds.
STAFF_ROLES = ("ops", "province_admin", "support", "teacher")


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    address: str | None = None
    request_id: str | None = None


SYSTEM = Actor("system", "system")
_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


class ActorPerRequest:
    """ASGI middleware: the actor noted while answering a request ends with it (a server that runs
    requests in the caller's task, as tests do, must not lend one request's actor to what follows)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        token = _actor.set(None)
        try:
            await self.app(scope, receive, send)
        finally:
            _actor.reset(token)


def note_principal(principal: Any, address: str | None) -> None:
    """Called by the token check: the rest of this request acts as `principal` from `address`."""
    roles = principal.roles
    role = next((r for r in STAFF_ROLES if r in roles), next(iter(sorted(roles)), "none"))
    _actor.set(Actor(principal.passport_id, role, address, request_id.get()))


def current_actor() -> Actor:
    return _actor.get() or SYSTEM


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """For work no token stands behind (a gateway's notification, a scheduled job)."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def jsonable(value: Any) -> Any:
    """Before/after as JSON: UUIDs, moments and decimals as text, dataclasses and rows as objects."""
    if value is None:
        return None
    if hasattr(value, "_asdict"):
        value = value._asdict()
    elif hasattr(value, "__dataclass_fields__"):
        value = {name: getattr(value, name) for name in value.__dataclass_fields__}
    elif hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


async def record(
    session: AsyncSession,
    kind: str,
    subject: tuple[str, Any],
    *,
    before: Any = None,
    after: Any = None,
    candidate: Any = None,
    school: str | None = None,
    province: str | None = None,
    actor: Actor | None = None,
    at: datetime | None = None,
) -> None:
    """One audit row in the caller's transaction. `subject`: (its type, its id), e.g. ("offering", id)."""
    who = actor or current_actor()
    subject_type, subject_id = subject
    values: dict[str, Any] = {
        "actor_id": who.id,
        "actor_role": who.role,
        "address": who.address,
        "request_id": who.request_id,
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "candidate": None if candidate is None else str(candidate),
        "province_code": province or (school[:2] if school else None),
        "school_code": school,
        "before": jsonable(before),
        "after": jsonable(after),
    }
    if at is not None:
        values["at"] = at
    await session.execute(insert(audit_log).values(values))
