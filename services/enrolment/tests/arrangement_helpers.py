"""What the arrangement tests (N13 at scale) share: paid candidates, the seats given, the job run
as the worker runs it, and a probe for a backend that waits on a lock."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from cet_shared.events.contracts import PaymentConfirmed
from enrolment.service.arrangement_job import ArrangementRun, run_arrangements


async def pay(world: Any, candidate: Any, enrolment_ids: list[str], *, order_id: uuid.UUID | None = None) -> None:
    await world.deliver(
        PaymentConfirmed(
            order_id=order_id or uuid.uuid4(),
            registration_id=candidate.registration_id,
            passport_id=candidate.passport_id,
            enrolment_ids=enrolment_ids,
            amount_fen=len(enrolment_ids),
            gateway="alipay",
            gateway_transaction_id=uuid.uuid4().hex,
            paid_at=world.ctx.clock.now(),
        ),
        key=str(candidate.registration_id),
    )


async def paid_candidates(world: Any, count: int, *, school: str = "99301", campus: str = "993010") -> list[tuple[Any, str]]:
    """`count` candidates, each with a paid written CET4 (1) at `campus`, paid a second apart."""
    paid = []
    for _ in range(count):
        candidate = await world.bind(school=school, campus=campus)
        (enrolment_id,) = (await candidate.written("1")).json()["enrolment_ids"]
        await pay(world, candidate, [enrolment_id])
        paid.append((candidate, enrolment_id))
        world.ctx.clock.advance(timedelta(seconds=1))
    return paid


def run_of(world: Any, batch: int, freeze_offerings: int = 20) -> ArrangementRun:
    settings = world.ctx.settings
    return ArrangementRun(seats_per_room=settings.seats_per_room, batch=batch, lease=settings.arrangement_lease, freeze_offerings=freeze_offerings)


async def run(world: Any, batch: int, *, freeze_offerings: int = 20, **kwargs: Any) -> int:
    """One pass of the worker's periodic job."""
    return await run_arrangements(world.ctx.unit_of_work, world.ctx.clock, run_of(world, batch, freeze_offerings), **kwargs)


async def seats(world: Any) -> list[tuple[Any, ...]]:
    async with world.ctx.engine.connect() as connection:
        rows = await connection.execute(
            text("""SELECT e.id, o.province_code, o.school_code, o.campus_code, e.subject_code, e.room, e.seat, e.ticket_number
                    FROM enrolments e JOIN offerings o ON o.id = e.offering_id WHERE e.ticket_number IS NOT NULL ORDER BY e.ticket_number""")
        )
        return [tuple(r) for r in rows]


async def waiting_on_a_lock(world: Any, query_part: str) -> list[int]:
    """Backends of this database waiting on a lock while running a statement with `query_part`."""
    async with world.ctx.engine.connect() as connection:
        rows = await connection.execute(
            text("""SELECT pid FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock' AND position(:part IN query) > 0"""),
            {"part": query_part},
        )
        return [pid for (pid,) in rows]
