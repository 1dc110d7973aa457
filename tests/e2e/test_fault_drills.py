"""Fault drills of issue 10, on a stack of their own: its own PostgreSQL cluster (so a drill may stop
it, `pg_ctl stop -m fast`), two eligibility workers (so a relay leader can be frozen), the gateway.

enrolment's worker reaches PostgreSQL, and every worker the broker, through Toxiproxy (the blackholes).

Each drill counts what it saw, asserts on counts and prints its figures (`[figures] …`, run with
-s); they are also written to <tmp>/figures.json. Durations: CET_E2E_PG_OUTAGE (30 s),
CET_E2E_FREEZE (60 s, as issue 10 asks: twelve times the 5 s lease), CET_E2E_BLACKHOLE
(60 s)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from drill_stack import OPS, Drill, LogWatch, admin, bind_when_known, dead_letter_messages, dead_letters_by_topic, drill_stack, leader_log, sql
from e2e_clients import wait_until
from test_drills import bind_all, drill_school, known_to_enrolment, record

# the module's stack (its own cluster, eleven processes) starts inside the first drill's budget
pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
async def drill(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Drill]:
    async with drill_stack(tmp_path_factory.mktemp("drills")) as running:
        yield running


async def test_a_poison_event_parks_its_key_until_dlq_discard_then_the_key_goes_on_in_order(drill: Drill) -> None:
    """An unreadable event in the middle of one registration's stream: exactly it is dead-lettered;
    the key's next event (a rebind) is parked, not applied; other keys go on; `dlq replay` cannot
    apply the unreadable one and keeps the order; `dlq discard` (audited) applies the parked one."""
    stack, ops, session_id = drill.stack, drill.ops, drill.session_id
    crowd, identities, _ = await drill_school(stack, ops, session_id, "99511", 3, 5)
    await bind_when_known(crowd, identities, [0, 1])
    await known_to_enrolment(crowd, [0, 1])
    registration_id = (await sql(stack, "enrolment", "SELECT registration_id FROM registrations WHERE passport_id = $1", crowd.passport_ids[0]))[0][0]
    key = str(registration_id).encode()
    topic = stack.topic_prefix + "eligibility.registrations.v1"
    from cet_shared.events.contracts import RegistrationRebound
    from cet_shared.events.envelope import EventEnvelope

    poison = {
        "event_id": str(uuid.uuid4()),
        "event_type": "RegistrationRebound",
        "version": 1,
        "producer": "eligibility",
        "key": key.decode(),
        "payload": {"nonsense": 1},
    }
    rebound = EventEnvelope.wrap(
        RegistrationRebound(registration_id=uuid.UUID(key.decode()), old_passport_id=crowd.passport_ids[0], new_passport_id=crowd.passport_ids[2]),
        key=key.decode(),
        producer="eligibility",
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, json.dumps(poison).encode(), key=key, headers=[("traceparent", b"00-drill-01")])
        await producer.send_and_wait(topic, rebound.model_dump_json().encode(), key=key)
    finally:
        await producer.stop()

    async def parked() -> list:
        return [r for r in await sql(stack, "enrolment", "SELECT id, state FROM dead_letters ORDER BY id") if r["state"] == "parked"]

    await wait_until(parked, timeout=60, what="the rebind parked behind the dead event")
    await bind_all(crowd, identities, [2])  # another key: not held up
    await known_to_enrolment(crowd, [2])
    listing = json.loads((await admin(stack, "enrolment", "dlq", "list")).stdout)
    assert [(e["state"], e["parked_behind"]) for e in listing] == [("dead", 1)], listing
    assert (await sql(stack, "enrolment", "SELECT passport_id FROM registrations WHERE registration_id = $1", registration_id))[0][0] == crowd.passport_ids[
        0
    ], "not rebound while parked"

    replayed = json.loads((await admin(stack, "enrolment", "dlq", "replay")).stdout)
    assert [o["stopped_at"] for o in replayed.values()] == [listing[0]["id"]], "unreadable still: it stays dead, the rebind stays parked"
    discard = await admin(stack, "enrolment", "dlq", "discard", str(listing[0]["id"]), "--reason", "drill: malformed payload", "--by", "ops-drills")
    assert discard.returncode == 0, discard.stderr
    assert (await sql(stack, "enrolment", "SELECT passport_id FROM registrations WHERE registration_id = $1", registration_id))[0][0] == crowd.passport_ids[2]
    audit = await sql(stack, "enrolment", "SELECT state, resolved_by, resolution FROM dead_letters ORDER BY id")
    assert [tuple(r) for r in audit] == [("discarded", "ops-drills", "drill: malformed payload"), ("replayed", "ops-drills", "applied")]
    # payment's consumer handles RegistrationRebound too: it dead-lettered its own copy and parked the key
    assert await dead_letters_by_topic(stack) == {"dlq.enrolment.registrations": 1, "dlq.payment": 1}, "exactly the poison event, once per group"
    [payment_dead] = [e for e in json.loads((await admin(stack, "payment", "dlq", "list")).stdout)]
    assert payment_dead["parked_behind"] == 1
    assert (await admin(stack, "payment", "dlq", "discard", str(payment_dead["id"]), "--reason", "drill: malformed payload")).returncode == 0
    assert [r[0] for r in await sql(stack, "payment", "SELECT state FROM dead_letters ORDER BY id")] == ["discarded", "replayed"]
    await crowd.close()
    record(stack, "poison_parked", {"dead_letters_per_group": 1, "groups": 2, "parked_per_group": 1, "applied_after_discard": 1, "other_keys_held_up": 0})


async def test_a_killed_worker_restarted_resumes_its_partitions_within_3s_static_membership(drill: Drill) -> None:
    """SIGKILL (no goodbye to the group) and a restart: the worker comes back as the same static
    member (WORKER_INSTANCE_ID), so it gets its partitions back without waiting for the group to
    time the dead member out (a dynamic member waits the session timeout, 10 s)."""
    stack = drill.stack
    worker = stack.procs["enrolment-worker"]
    await asyncio.to_thread(worker.kill)
    offset = worker.log.stat().st_size
    restarted = time.monotonic()
    await asyncio.to_thread(worker.start)
    await asyncio.to_thread(worker.wait_ready)  # "worker running": the process is up
    booted = time.monotonic()

    def assignments() -> int:
        with worker.log.open("rb") as f:
            f.seek(offset)
            return f.read().count(b"assigned to partitions")

    await wait_until(lambda: assignments() >= 2, timeout=30, interval=0.05, what="both consumer groups to get their partitions back")
    resumed, since_restart = time.monotonic() - booted, time.monotonic() - restarted
    # The consumers join in the background once the process is up: a dynamic member would get its
    # partitions only after the dead one's session timeout (10 s); the static one gets them at once.
    assert resumed < 3, (resumed, since_restart)
    record(
        stack,
        "static_membership",
        {
            "boot_seconds": round(booted - restarted, 1),
            "resumed_seconds_after_boot": round(resumed, 2),
            "seconds_from_sigkill_restart_to_partitions": round(since_restart, 1),
        },
    )


async def test_the_relay_leader_frozen_is_replaced_within_10s_and_steps_down_when_it_thaws(drill: Drill) -> None:
    stack, ops, session_id = drill.stack, drill.ops, drill.session_id
    freeze = float(os.environ.get("CET_E2E_FREEZE", "60"))

    def leading() -> dict | None:
        counts = leader_log(stack)
        return counts if any(led > down for led, down in counts.values()) else None

    counts = await wait_until(leading, timeout=60, what="an eligibility relay leader")
    leader = next(name for name, (led, down) in counts.items() if led > down)
    standby = next(name for name in counts if name != leader)
    crowd, identities, _ = await drill_school(stack, ops, session_id, "99512", 12, 5)
    await bind_when_known(crowd, identities, [0])
    await known_to_enrolment(crowd, [0])

    frozen = stack.procs[leader]
    os.killpg(frozen.popen.pid, signal.SIGSTOP)
    frozen_at = time.monotonic()
    try:
        await bind_all(crowd, identities, range(1, 12))  # RegistrationBound in eligibility's outbox
        await wait_until(lambda: leader_log(stack)[standby][0] > counts[standby][0], timeout=20, interval=0.1, what="the standby to lead")
        takeover = time.monotonic() - frozen_at
        await known_to_enrolment(crowd, range(1, 12), timeout=60)
        caught_up = time.monotonic() - frozen_at
        await asyncio.sleep(max(0.0, freeze - (time.monotonic() - frozen_at)))  # the freeze lasts its full length
    finally:
        os.killpg(frozen.popen.pid, signal.SIGCONT)
    thawed_at = time.monotonic()
    await wait_until(lambda: leader_log(stack)[leader][1] > counts[leader][1], timeout=20, interval=0.1, what="the thawed leader to step down")
    step_down = time.monotonic() - thawed_at
    assert leader_log(stack)[leader][0] == counts[leader][0], "the thawed relay did not lead again"
    assert takeover <= 10, takeover

    # per-key order: the first copy of each event in Kafka is in the outbox's id (commit) order
    from cet_shared.testing import KafkaProbe

    outbox = await sql(stack, "eligibility", "SELECT event_id::text, key FROM outbox ORDER BY id")
    async with KafkaProbe(stack.topic_prefix + "eligibility.registrations.v1", bootstrap=stack.kafka.bootstrap) as probe:
        await wait_until(
            lambda: {json.loads(m.value).get("event_id") for m in probe.messages} >= {r[0] for r in outbox}, timeout=30, what="every outbox event in Kafka"
        )
        envelopes = [json.loads(m.value) for m in probe.messages if m.value.startswith(b"{") and "event_id" in json.loads(m.value)]
    first: dict[str, list[str]] = {}
    seen: set[str] = set()
    relayed = {r[0] for r in outbox}  # not what another drill produced by hand
    for envelope in envelopes:
        if envelope["event_id"] not in seen and envelope["event_id"] in relayed:
            seen.add(envelope["event_id"])
            first.setdefault(envelope["key"], []).append(envelope["event_id"])
    expected: dict[str, list[str]] = {}
    for event_id, key in outbox:
        expected.setdefault(key, []).append(event_id)
    for key, ids in expected.items():
        assert first.get(key) == ids, f"per-key order for {key}"
    assert len(await sql(stack, "enrolment", "SELECT 1 FROM registrations WHERE school_code = '99512'")) == 12, "each registration once"
    await crowd.close()
    record(
        stack,
        "relay_sigstop",
        {
            "freeze_seconds": freeze,
            "takeover_seconds": round(takeover, 1),
            "caught_up_seconds": round(caught_up, 1),
            "step_down_after_sigcont_seconds": round(step_down, 1),
            "re_sent": sum(1 for e in envelopes if e["event_id"] in relayed) - len(seen),
        },
    )


async def test_a_blackholed_link_between_enrolment_worker_and_postgresql_is_noticed_and_everything_converges(drill: Drill) -> None:
    """Packets dropped, no RST, for CET_E2E_BLACKHOLE seconds while registrations flow to enrolment:
    the worker notices within 15 s (its relay steps down, its consumer backs off), leads again after,
    everything converges, nothing is dead-lettered."""
    stack, ops, session_id, worker_link = drill.stack, drill.ops, drill.session_id, drill.worker_pg
    duration = float(os.environ.get("CET_E2E_BLACKHOLE", "60"))
    count = 10
    crowd, identities, _ = await drill_school(stack, ops, session_id, "99514", count, 5)
    watch = LogWatch(stack.procs["enrolment-worker"].log)
    dead_before = await dead_letter_messages(stack)
    worker_link.blackhole()
    cut_at = time.monotonic()
    try:
        await bind_when_known(crowd, identities, list(range(count)))
        await wait_until(
            lambda: watch.saw("outbox relay stepped down") and watch.saw("transient failure"),
            timeout=30,
            interval=0.2,
            what="the worker to notice the dead link (relay and consumer)",
        )
        noticed = time.monotonic() - cut_at
        await asyncio.sleep(max(0.0, duration - (time.monotonic() - cut_at)))  # the fault lasts its full length
    finally:
        worker_link.heal()
    healed_at = time.monotonic()
    await known_to_enrolment(crowd, range(count), timeout=120)
    converged = time.monotonic() - healed_at
    # it cannot lead while cut off: a leadership logged since the cut began after the heal
    await wait_until(lambda: watch.saw("outbox relay is the leader"), timeout=30, what="the relay to lead again")
    assert noticed <= 15, noticed
    assert len(await sql(stack, "enrolment", "SELECT 1 FROM registrations WHERE school_code = '99514'")) == count
    assert await dead_letter_messages(stack) == dead_before
    await crowd.close()
    record(
        stack,
        "worker_pg_blackhole",
        {"blackhole_seconds": duration, "noticed_seconds": round(noticed, 1), "converged_seconds_after_heal": round(converged, 1), "dead_letters": 0},
    )


async def test_a_blackholed_link_between_the_relays_and_kafka_is_noticed_no_leadership_sticks_and_everything_converges(drill: Drill) -> None:
    """Every worker's link to the broker drops packets for CET_E2E_BLACKHOLE seconds while
    registrations are saved: the relays notice (their sends time out), the events wait in the
    outbox, and after the link heals a relay leads and delivers everything, nothing dead-lettered."""
    stack, ops, session_id, link = drill.stack, drill.ops, drill.session_id, drill.workers_kafka
    duration = float(os.environ.get("CET_E2E_BLACKHOLE", "60"))
    count = 10
    crowd, identities, _ = await drill_school(stack, ops, session_id, "99515", count, 5)
    await bind_when_known(crowd, identities, [0])
    await known_to_enrolment(crowd, [0])
    watch = LogWatch(*(stack.procs[n].log for n in ("eligibility-worker", "eligibility-worker-2")))
    dead_before = await dead_letter_messages(stack)
    link.blackhole()
    cut_at = time.monotonic()
    try:
        await bind_all(crowd, identities, range(1, count))  # accepted: RegistrationBound waits in the outbox
        await wait_until(lambda: watch.saw("outbox relay stepped down"), timeout=30, interval=0.2, what="a relay to notice the dead link")
        noticed = time.monotonic() - cut_at
        await asyncio.sleep(max(0.0, duration - (time.monotonic() - cut_at)))  # the fault lasts its full length
    finally:
        link.heal()
    healed_at = time.monotonic()
    await known_to_enrolment(crowd, range(count), timeout=180)
    converged = time.monotonic() - healed_at
    assert noticed <= 15, noticed
    assert len(await sql(stack, "enrolment", "SELECT 1 FROM registrations WHERE school_code = '99515'")) == count
    assert not await sql(stack, "eligibility", "SELECT 1 FROM outbox WHERE published_at IS NULL"), "no leadership stuck: the outbox drained"
    assert await dead_letter_messages(stack) == dead_before
    await crowd.close()
    record(
        stack,
        "relays_kafka_blackhole",
        {"blackhole_seconds": duration, "noticed_seconds": round(noticed, 1), "converged_seconds_after_heal": round(converged, 1), "dead_letters": 0},
    )


async def test_postgresql_stopped_30s_mid_traffic_503s_then_every_accepted_effect_lands_once(drill: Drill) -> None:
    stack, cluster, ops, session_id = drill.stack, drill.cluster, drill.ops, drill.session_id
    outage = float(os.environ.get("CET_E2E_PG_OUTAGE", "30"))
    count = 40
    crowd, identities, _ = await drill_school(stack, ops, session_id, "99513", count, 5)
    await bind_when_known(crowd, identities, list(range(count)))  # accepted: RegistrationBound on its way to enrolment
    known_before = len(await sql(stack, "enrolment", "SELECT 1 FROM registrations WHERE school_code = '99513'"))
    dead_before = await dead_letter_messages(stack)

    await asyncio.to_thread(cluster.stop, "fast")
    down_at = time.monotonic()
    answers: list[tuple[str, int, str, str | None, float]] = []
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as anonymous:

        async def probe(label: str, call) -> None:
            started = time.monotonic()
            r = await call()
            answers.append((label, r.status_code, r.headers.get("content-type", ""), r.headers.get("retry-after"), time.monotonic() - started))

        while time.monotonic() - down_at < outage:
            await asyncio.gather(
                probe(
                    "register",
                    lambda: anonymous.post(
                        "/api/passport/accounts",
                        json={
                            "email": f"o-{uuid.uuid4().hex[:8]}@example.com",
                            "password": "Drill-2026-pass",
                            "confirm_password": "Drill-2026-pass",
                            **stack.captcha(),
                        },
                    ),
                ),
                probe("log in", lambda: anonymous.post("/api/passport/sessions", json={"email": OPS, "password": "wrong-Password-1", **stack.captcha()})),
                probe("recovery", lambda: anonymous.post("/api/passport/password/recovery", json={"email": OPS, **stack.captcha()})),
                probe("me", lambda: ops.get("/api/passport/me")),
                probe("registration", lambda: crowd.request(0, "GET", "/api/enrolment/me/registration")),
            )
            await asyncio.sleep(0.5)
    await asyncio.to_thread(cluster.start)
    back_at = time.monotonic()
    await known_to_enrolment(crowd, range(count), timeout=120)
    converged = time.monotonic() - back_at

    failures = [a for a in answers if a[1] >= 500 and (a[1] != 503 or "problem+json" not in a[2] or a[3] is None)]
    assert not failures, failures[:5]
    assert any(a[1] == 503 for a in answers) and max(a[4] for a in answers) < 10
    assert len(await sql(stack, "enrolment", "SELECT 1 FROM registrations WHERE school_code = '99513'")) == count, "none lost, none twice"
    held = sum([len(await sql(stack, s, "SELECT 1 FROM dead_letters WHERE state IN ('dead', 'parked')")) for s in stack.services])
    dead = await dead_letter_messages(stack) - dead_before
    assert held == 0 and dead == 0, "a database outage dead-letters nothing"
    by_status: dict[str, int] = {}
    for _, status, *_ in answers:
        by_status[str(status)] = by_status.get(str(status), 0) + 1
    await crowd.close()
    record(
        stack,
        "pg_outage",
        {
            "outage_seconds": round(back_at - down_at, 1),
            "requests_during_outage": len(answers),
            "by_status": by_status,
            "slowest_answer_seconds": round(max(a[4] for a in answers), 1),
            "known_to_enrolment_at_stop": known_before,
            "accepted": count,
            "converged_seconds_after_restart": round(converged, 1),
            "dead_letters": 0,
        },
    )
