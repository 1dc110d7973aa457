"""Group commit of the candidates' holds inside one api process (issue 11, point 2).

The first hold of a campus goes to the database at once; the holds of that campus that arrive
while it is in flight wait and then go together, as the next batch, in one `hold_seats_batch()`
statement (migration sh01): one round trip, one transaction, one commit flush for all of them.
No timer: a hold never waits for company, only for the batch before it, which it would have
queued behind on the offering's row lock anyway. Each hold gets its own outcome ('held', 'full'
or 'changed'), decided by the database in the order the holds arrived."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from opentelemetry import trace

from cet_shared.telemetry import tracing_enabled

BATCH_SQL = "SELECT hold_seats_batch($1)"
MAX_BATCH = 64  # a bound on one statement's size and lock time; the rest forms the next batch
_RETRIED = {"40P01", "40001"}  # deadlock, serialization: nothing was written, send the batch again
ATTEMPTS = 3

_tracer = trace.get_tracer("enrolment.seats")
_SPAN = {"db.system": "postgresql", "db.statement": BATCH_SQL, "db.operation": "SELECT"}


@dataclass
class _Waiting:
    entry: dict[str, Any]
    answer: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class HoldBatches:
    """One queue per key (a campus): while a batch of that key is in flight, holds wait for the next."""

    def __init__(self, pool: Callable[[], Awaitable[asyncpg.Pool]]) -> None:
        self._pool = pool
        self._waiting: dict[Hashable, list[_Waiting]] = {}  # a key is present while its batch is in flight
        self._draining: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks
        self.batches = 0  # statements sent, for the proofs and the benchmark
        self.holds = 0
        self._traced = tracing_enabled()  # an unexported span is CPU per batch for nobody

    async def hold(self, key: Hashable, entry: dict[str, Any]) -> str:
        waiting = _Waiting(entry)
        queue = self._waiting.get(key)
        if queue is None:
            self._waiting[key] = []
            task = asyncio.get_running_loop().create_task(self._drain(key, [waiting]))
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)
        else:
            queue.append(waiting)
        return await waiting.answer

    async def _drain(self, key: Hashable, batch: list[_Waiting]) -> None:
        try:
            while batch:
                await self._send(batch)
                queue = [w for w in self._waiting[key] if not w.answer.done()]  # a cancelled request holds nothing
                batch, self._waiting[key] = queue[:MAX_BATCH], queue[MAX_BATCH:]
        finally:
            for waiting in self._waiting.pop(key, []):
                if not waiting.answer.done():
                    waiting.answer.set_exception(RuntimeError("hold batch ended"))

    async def _send(self, batch: list[_Waiting]) -> None:
        entries = [w.entry for w in batch]
        self.batches += 1
        self.holds += len(batch)
        try:
            outcomes = await self._statement(entries)
        except BaseException as error:  # every request of the batch gets the failure, none is left waiting
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_exception(error if isinstance(error, Exception) else RuntimeError("hold batch cancelled"))
            if not isinstance(error, Exception):
                raise
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if not waiting.answer.done():
                waiting.answer.set_result(outcome)

    async def _statement(self, entries: list[dict[str, Any]]) -> list[str]:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with (await self._pool()).acquire() as connection:
                    if not self._traced:
                        return list(await connection.fetchval(BATCH_SQL, entries))
                    with _tracer.start_as_current_span("SELECT hold_seats_batch", kind=trace.SpanKind.CLIENT, attributes=_SPAN):
                        return list(await connection.fetchval(BATCH_SQL, entries))
            except asyncpg.PostgresError as error:
                if getattr(error, "sqlstate", None) not in _RETRIED or attempt == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")
