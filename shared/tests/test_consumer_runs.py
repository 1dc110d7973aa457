"""Events applied together (`EventConsumer.handles_together`): one transaction per batch, the
inbox rows in one statement, a run of consecutive events of one type in one handler call, in
delivery order with the other events of the batch; a redelivery is applied once (real PostgreSQL)."""

from __future__ import annotations

import uuid

from sqlalchemy import event as sa_event, text

from cet_shared.db import UnitOfWork
from cet_shared.events.contracts import RegistrationReleased, SubjectCancelled
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer


def body(event, key: str, event_id: uuid.UUID | None = None) -> bytes:
    envelope = EventEnvelope.wrap(event, key=key, producer="test")
    if event_id is not None:
        envelope = envelope.model_copy(update={"event_id": event_id})
    return envelope.model_dump_json().encode()


async def test_a_run_of_one_type_is_one_call_in_order_and_a_redelivery_applies_once(engine, unit_of_work) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS run_log (seq bigserial PRIMARY KEY, what text NOT NULL, n int NOT NULL)"))
        await connection.execute(text("TRUNCATE run_log"))
    consumer = EventConsumer(f"runs-{uuid.uuid4().hex[:6]}", unit_of_work)
    calls: list[int] = []

    @consumer.handles_together(RegistrationReleased)
    async def released(uow: UnitOfWork, events: list[tuple[RegistrationReleased, EventEnvelope]]) -> None:
        calls.append(len(events))
        rows = [{"what": "released", "n": int(event.passport_id)} for event, _ in events]
        await uow.session.execute(text("INSERT INTO run_log (what, n) VALUES (:what, :n)"), rows)

    @consumer.handles(SubjectCancelled)
    async def cancelled(uow: UnitOfWork, event: SubjectCancelled, envelope: EventEnvelope) -> None:
        await uow.session.execute(text("INSERT INTO run_log (what, n) VALUES ('cancelled', 0)"))

    key = str(uuid.uuid4())
    registration = uuid.UUID(key)
    first = uuid.uuid4()
    released_n = [body(RegistrationReleased(registration_id=registration, passport_id=f"{n:032d}"), key, first if n == 1 else None) for n in (1, 2, 3)]
    cancel = body(SubjectCancelled(enrolment_id=uuid.uuid4(), registration_id=registration), key)
    later = [body(RegistrationReleased(registration_id=registration, passport_id=f"{n:032d}"), key) for n in (4, 5)]
    batch = [*released_n, released_n[0], cancel, *later]  # event 1 twice in the batch (a seek brought it back)

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    sa_event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await consumer.dispatch_batch([(b, None) for b in batch], topic="test")
    finally:
        sa_event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert calls == [3, 2], "two runs around the other event, each one call"
    assert sum("INSERT INTO inbox" in s for s in statements) == 1, "the batch's inbox rows in one statement"
    assert sum("COMMIT" in s.upper() for s in statements) <= 1
    async with engine.connect() as connection:
        log = (await connection.execute(text("SELECT what, n FROM run_log ORDER BY seq"))).all()
    assert [tuple(r) for r in log] == [("released", 1), ("released", 2), ("released", 3), ("cancelled", 0), ("released", 4), ("released", 5)]
    assert consumer.applied == 6 and consumer.duplicates_dropped == 1

    await consumer.dispatch_batch([(released_n[1], None), (later[1], None)], topic="test")  # redelivered after a crash
    assert consumer.duplicates_dropped == 3 and calls == [3, 2], "nothing applied twice"
