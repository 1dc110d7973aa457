"""Issue 10's consumer drills on the fault drills' own stack (tests/e2e/drill_stack.py): PostgreSQL
restarted while a consumer batch is inside its transaction, and a poison event replayed after the
fix. Each counts what it saw, asserts on counts and prints its figures (`[figures] …`, run with -s)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from drill_stack import Drill, LogWatch, admin, dead_letter_messages, drill_stack, sql
from e2e_clients import wait_until
from test_drills import record

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
async def drill(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Drill]:
    async with drill_stack(tmp_path_factory.mktemp("consumer-drills")) as running:
        yield running


def _bound(session_id: uuid.UUID, school: str, index: int):
    from cet_shared.events.contracts import RegistrationBound, RegistrationSnapshot
    from cet_shared.events.envelope import EventEnvelope

    registration_id = uuid.uuid4()
    snapshot = RegistrationSnapshot(
        name=f"演练{index}",
        gender="女",
        id_type="resident_id_card",
        id_number=f"33010119900101{index:04d}",
        province_code="99",
        school_code=school,
        school_name="演练学校",
        campus_code=school + "0",
        campus_name="演练校区",
        qualification_subjects=["英语四级笔试"],
    )
    event = RegistrationBound(
        registration_id=registration_id, exam_session_id=session_id, passport_id=uuid.uuid4().hex.upper(), snapshot=snapshot, bound_at=datetime.now(UTC)
    )
    return EventEnvelope.wrap(event, key=str(registration_id), producer="eligibility")


async def _produce(drill: Drill, topic: str, envelopes: list) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=drill.stack.kafka.bootstrap, linger_ms=20)
    await producer.start()
    try:
        sends = [await producer.send(drill.stack.topic_prefix + topic, e.model_dump_json().encode(), key=e.key.encode()) for e in envelopes]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def test_postgresql_restarted_while_a_consumer_batch_is_inside_its_transaction_loses_nothing_doubles_nothing(drill: Drill) -> None:
    """A burst of RegistrationBound keeps enrolment's consumer in batches (up to 200 events in one
    transaction); the moment one is seen open in pg_stat_activity the cluster is restarted
    (`pg_ctl restart -m fast`: the batch's session is cut, its transaction rolled back). The
    consumer backs off and sees the batch again: every event applied once, none dead-lettered."""
    stack, cluster = drill.stack, drill.cluster
    count, school = 3000, "99516"
    envelopes = [_bound(drill.session_id, school, i) for i in range(count)]
    database = stack.database_urls["enrolment"].rsplit("/", 1)[1].split("?")[0]
    dead_before = await dead_letter_messages(stack)
    watch = LogWatch(stack.procs["enrolment-worker"].log)

    producing = asyncio.create_task(_produce(drill, "eligibility.registrations.v1", envelopes))
    monitor = await asyncpg.connect(cluster.admin_url)
    try:

        async def batch_open() -> asyncpg.Record | None:
            return await monitor.fetchrow(
                "SELECT pid, now() - xact_start AS open_for, query FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() "
                "AND xact_start IS NOT NULL AND state IN ('active', 'idle in transaction') AND query ILIKE '%registrations%' "
                "AND query ILIKE 'INSERT%'",
                database,
            )

        seen = await wait_until(batch_open, timeout=120, interval=0.005, what="a consumer batch inside its transaction")
    finally:
        await monitor.close()
    await asyncio.to_thread(cluster.restart, "fast")  # at once: the batch seen open is still inside its transaction
    restarted_at = time.monotonic()
    await producing

    async def all_applied() -> bool:
        return len(await sql(stack, "enrolment", "SELECT 1 FROM registrations WHERE school_code = $1", school)) == count

    await wait_until(all_applied, timeout=240, interval=1, what=f"enrolment to apply all {count} registrations")
    caught_up = time.monotonic() - restarted_at
    assert watch.saw("transient failure"), "the cut batch was seen as a transient failure"
    assert f"[{seen['pid']}] FATAL:  terminating connection due to administrator command" in cluster.log.read_text(errors="replace"), (
        "the batch's session was cut"
    )
    ids = [e.event_id for e in envelopes]
    inbox = await sql(
        stack,
        "enrolment",
        "SELECT event_id, count(*) AS n FROM inbox WHERE consumer = 'enrolment.registrations' AND event_id = ANY($1::uuid[]) GROUP BY event_id",
        ids,
    )
    assert len(inbox) == count and all(r["n"] == 1 for r in inbox), "each event in the inbox once"
    rows = await sql(stack, "enrolment", "SELECT count(DISTINCT registration_id) AS d, count(*) AS n FROM registrations WHERE school_code = $1", school)
    assert (rows[0]["d"], rows[0]["n"]) == (count, count), "each registration once"
    held = sum([len(await sql(stack, s, "SELECT 1 FROM dead_letters WHERE state IN ('dead', 'parked')")) for s in stack.services])
    dead = await dead_letter_messages(stack) - dead_before
    assert (held, dead) == (0, 0), "a restart dead-letters nothing"
    record(
        stack,
        "pg_restart_mid_batch",
        {
            "events": count,
            "cut_pid": seen["pid"],
            "batch_open_for_seconds_when_cut": round(seen["open_for"].total_seconds(), 3),
            "caught_up_seconds_after_restart": round(caught_up, 1),
            "inbox_rows": len(inbox),
            "applied_twice": 0,
            "dead_letters": dead,
        },
    )


async def test_a_poison_event_mid_stream_is_dead_lettered_its_key_parked_and_dlq_replay_after_the_fix_applies_all_once_in_order(drill: Drill) -> None:
    """One registration's stream: RegistrationBound (applied), then — after a bad restore lost the
    registration's row in enrolment — a qualification granted (its handler cannot find the
    registration: a failure no retry changes) and a rebind. Exactly the grant is dead-lettered, the
    rebind parked behind it; other keys go on. The fix restores the row from the backup; `dlq
    replay` then applies the grant and the rebind once, in stream order, through the inbox."""
    from cet_shared.events.contracts import QualificationGranted, RegistrationRebound
    from cet_shared.events.envelope import EventEnvelope

    stack = drill.stack
    bound = _bound(drill.session_id, "99517", 1)
    registration_id, old_passport, key = uuid.UUID(bound.key), bound.payload["passport_id"], bound.key
    await _produce(drill, "eligibility.registrations.v1", [bound])
    backup = await wait_until(
        lambda: sql(stack, "enrolment", "SELECT to_jsonb(r)::text AS row FROM registrations r WHERE registration_id = $1", registration_id),
        timeout=60,
        what="the registration bound in enrolment",
    )
    await sql(stack, "enrolment", "DELETE FROM registrations WHERE registration_id = $1", registration_id)  # the bad restore

    new_passport = uuid.uuid4().hex.upper()
    granted = EventEnvelope.wrap(
        QualificationGranted(registration_id=registration_id, subject_codes=["英语六级笔试"], reason="cet6_review_teacher"), key=key, producer="eligibility"
    )
    rebound = EventEnvelope.wrap(
        RegistrationRebound(registration_id=registration_id, old_passport_id=old_passport, new_passport_id=new_passport), key=key, producer="eligibility"
    )
    other = _bound(drill.session_id, "99517", 2)  # another key, behind the poison event in time
    dead_before = await dead_letter_messages(stack)
    await _produce(drill, "eligibility.registrations.v1", [granted, rebound, other])

    async def held() -> list | None:
        rows = await sql(stack, "enrolment", "SELECT event_id, state FROM dead_letters WHERE consumer = 'enrolment.registrations' ORDER BY id")
        return rows if [r["state"] for r in rows] == ["dead", "parked"] else None

    rows = await wait_until(held, timeout=90, what="the poison event dead and its key's later event parked")
    assert [str(r["event_id"]) for r in rows] == [str(granted.event_id), str(rebound.event_id)], "exactly the poison one dead, the later one parked"
    await wait_until(
        lambda: sql(stack, "enrolment", "SELECT 1 FROM registrations WHERE registration_id = $1", uuid.UUID(other.key)), timeout=60, what="another key to go on"
    )
    assert await dead_letter_messages(stack) - dead_before == 1, "one message in dlq.enrolment.registrations"

    # the fix: the row is restored from the backup (the dead event is unchanged; now it applies)
    await sql(stack, "enrolment", "INSERT INTO registrations SELECT * FROM jsonb_populate_record(NULL::registrations, $1::jsonb)", backup[0]["row"])
    replay = await admin(stack, "enrolment", "dlq", "replay", "--by", "ops-drills")
    assert replay.returncode == 0, replay.stderr
    again = await admin(stack, "enrolment", "dlq", "replay", "--by", "ops-drills")  # a second replay finds nothing held
    assert again.returncode == 0, again.stderr

    registration = (await sql(stack, "enrolment", "SELECT passport_id, qualification_subjects FROM registrations WHERE registration_id = $1", registration_id))[
        0
    ]
    assert registration["passport_id"] == new_passport, "the rebind applied"
    assert len(registration["qualification_subjects"]) == 2, ("the grant applied", registration["qualification_subjects"])
    ids = [bound.event_id, granted.event_id, rebound.event_id]
    inbox = await sql(
        stack,
        "enrolment",
        "SELECT event_id, count(*) AS n FROM inbox WHERE consumer = 'enrolment.registrations' AND event_id = ANY($1::uuid[]) GROUP BY event_id",
        ids,
    )
    assert sorted((str(r["event_id"]), r["n"]) for r in inbox) == sorted((str(i), 1) for i in ids), "each applied once, through the inbox"
    audit = await sql(
        stack, "enrolment", "SELECT id, state, resolved_by, resolution, resolved_at FROM dead_letters WHERE consumer = 'enrolment.registrations' ORDER BY id"
    )
    assert [(r["state"], r["resolved_by"], r["resolution"]) for r in audit] == [("replayed", "ops-drills", "applied")] * 2, audit
    assert audit[0]["resolved_at"] <= audit[1]["resolved_at"], "the dead one first, then the parked one"
    assert await dead_letter_messages(stack) - dead_before == 1
    record(stack, "poison_replayed", {"dead_letters": 1, "parked": 1, "replayed": 2, "applied_twice": 0, "other_keys_held_up": 0})
