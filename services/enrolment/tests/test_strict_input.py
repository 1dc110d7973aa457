"""Strict input (issue 13): times only as ISO 8601 text within a plausible range of years,
booleans only as JSON booleans. Each bad document is refused with 422 and creates nothing."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from enrolment.db.tables import exam_sessions


def _json(document):
    return json.loads(json.dumps(document, default=str))


async def test_session_times_are_iso_8601_text_in_a_plausible_range(world, document_for) -> None:
    ops = world.tokens.headers(None, "ops")
    good = _json(document_for(world.ctx.clock.now()))
    for lenient in ("1000000000000", 1000000000000, 1_700_000_000, "9999-01-01T00:00:00+08:00", "1970-01-01T00:00:00+08:00", True):
        document = {**good, "id": str(uuid.uuid4()), "registration": {**good["registration"], "opens_at": lenient}}
        refused = await world.client.post("/ops/sessions", json=document, headers=ops)
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_request", (lenient, refused.text)
    async with world.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(exam_sessions)) == 0, "nothing was created"
    assert (await world.client.post("/ops/sessions", json=good, headers=ops)).status_code == 201


async def test_collective_lock_takes_a_json_boolean_only(world) -> None:
    teacher = world.tokens.headers(None, "teacher", school_code="99101")
    for lenient in (0, 1, "true", "yes"):
        refused = await world.client.put("/teacher/collective-lock", json={"enrolment_ids": [str(uuid.uuid4())], "locked": lenient}, headers=teacher)
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_request", lenient
    taken = await world.client.put("/teacher/collective-lock", json={"enrolment_ids": [str(uuid.uuid4())], "locked": True}, headers=teacher)
    assert taken.status_code == 200, taken.text
