"""Issue 14.3 — no false "does not exist" (Y1): a candidate who presses 支付 before enrolment's
SubjectEnrolled reached payment's projection is answered once it arrives, within a bound; past the
bound the answer says "still syncing" (409, retry), and a stranger is still told 404 at once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from cet_shared.events.contracts import SubjectEnrolled
from cet_shared.testing import wait_for


def enrolled(world, registration_id: uuid.UUID, passport_id: str) -> SubjectEnrolled:
    return SubjectEnrolled(
        enrolment_id=uuid.uuid4(),
        registration_id=registration_id,
        passport_id=passport_id,
        subject_code="F",
        subject_name="英语四级口试",
        campus_code="993010",
        fee_fen=1,
        expires_at=world.ctx.clock.now() + timedelta(hours=24),
    )


async def test_y1_paying_before_the_projection_caught_up_waits_for_it_instead_of_saying_it_does_not_exist(world, caplog):
    passport_id, registration_id, _ = await world.registration(fees=(1,))
    event = enrolled(world, registration_id, passport_id)
    body = {"enrolment_ids": [str(event.enrolment_id)]}
    with caplog.at_level(logging.INFO, logger="payment.service.orders"):
        preview = asyncio.create_task(world.api.post("/orders/preview", json=body, headers=world.headers(passport_id)))
        order = asyncio.create_task(world.api.post("/orders", json=body, headers=world.headers(passport_id)))
        # both requests are in, waiting: only now does the event reach the projection
        await wait_for(lambda: sum("waiting for 1 subject" in r.getMessage() for r in caplog.records) >= 2, what="both requests to wait")
        assert not preview.done() and not order.done()
        await world.feed(event, key=str(registration_id))
        answers = await asyncio.gather(preview, order)
    assert [a.status_code for a in answers] == [200, 201], [a.text for a in answers]
    assert answers[1].json()["amount_fen"] == 1 and answers[1].json()["lines"][0]["subject_code"] == "F"


async def test_y1_past_the_bound_the_answer_is_still_syncing_and_strangers_get_404_at_once(world):
    passport_id, _, _ = await world.registration(fees=(1,))
    world.ctx.settings.projection_wait = timedelta(milliseconds=200)
    body = {"enrolment_ids": [str(uuid.uuid4())]}
    loop = asyncio.get_running_loop()
    started = loop.time()
    syncing = await world.api.post("/orders/preview", json=body, headers=world.headers(passport_id))
    assert syncing.status_code == 409 and syncing.json()["code"] == "enrolment_not_yet_known" and syncing.headers["retry-after"] == "1"
    assert loop.time() - started >= 0.2
    started = loop.time()
    stranger = await world.api.post("/orders/preview", json=body, headers=world.headers(uuid.uuid4().hex.upper()))
    assert stranger.status_code == 404 and stranger.json()["code"] == "enrolment_not_found"
    assert loop.time() - started < 0.2, "an account with no registration here is not kept waiting"
