"""The portal's home page news and notices (issue 14, point 7): operations write them with a
publish time in the console; candidates and visitors read only what is published; every staff
change is audited; bad input is a Chinese problem+json that changes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta


def _item(world, *, kind="news", title="2026年下半年考试时间", body="笔试：2026-12-19", at=None):
    moment = at or world.ctx.clock.now()
    return {"kind": kind, "title": title, "body": body, "publish_at": moment.isoformat()}


async def test_ops_write_news_with_a_publish_time_and_everyone_reads_only_published_items(world) -> None:
    ops_id = uuid.uuid4().hex.upper()
    ops = world.tokens.headers(ops_id, "ops")
    now = world.ctx.clock.now()
    first = await world.client.post("/ops/news", json=_item(world, at=now - timedelta(hours=2)), headers=ops)
    assert first.status_code == 201, first.text
    notice = await world.client.post(
        "/ops/news", json=_item(world, kind="notice", title="准考证打印提示", body="请按时打印", at=now - timedelta(hours=1)), headers=ops
    )
    # Entered in the console as Shanghai time: 2026-11-27 12:00 +08:00 is 04:00 UTC, two hours ahead.
    later = await world.client.post("/ops/news", json={**_item(world, title="口试安排"), "publish_at": "2026-11-27T12:00:00+08:00"}, headers=ops)
    assert notice.status_code == later.status_code == 201

    # Visitors need no token; newest first; the scheduled item is not there yet.
    public = await world.client.get("/news")
    assert public.status_code == 200
    assert [(n["kind"], n["title"]) for n in public.json()] == [("notice", "准考证打印提示"), ("news", "2026年下半年考试时间")]
    staff = (await world.client.get("/ops/news", headers=ops)).json()
    assert [(n["title"], n["published"]) for n in staff] == [("口试安排", False), ("准考证打印提示", True), ("2026年下半年考试时间", True)]

    world.ctx.clock.advance(timedelta(hours=2))
    assert [n["title"] for n in (await world.client.get("/news")).json()][0] == "口试安排"

    # Changed, then withdrawn: the home page follows, the audit keeps who did what and what it said.
    item_id = first.json()["id"]
    changed = await world.client.put(f"/ops/news/{item_id}", json=_item(world, title="考试时间（更新）", at=now - timedelta(hours=2)), headers=ops)
    assert changed.status_code == 200 and changed.json()["title"] == "考试时间（更新）"
    assert (await world.client.delete(f"/ops/news/{notice.json()['id']}", headers=ops)).status_code == 204
    assert [n["title"] for n in (await world.client.get("/news")).json()] == ["口试安排", "考试时间（更新）"]
    assert await world.scalar("SELECT count(*) FROM news_audit WHERE actor_passport_id = :a", a=ops_id) == 5
    assert await world.scalar("SELECT action || ':' || (item->>'title') FROM news_audit ORDER BY id DESC LIMIT 1") == "deleted:准考证打印提示"


async def test_only_operations_write_news_and_bad_input_changes_nothing(world) -> None:
    candidate = world.tokens.headers(uuid.uuid4().hex.upper(), "candidate")
    ops = world.tokens.headers(None, "ops")
    assert (await world.client.post("/ops/news", json=_item(world), headers=candidate)).status_code == 403
    assert (await world.client.post("/ops/news", json=_item(world))).status_code == 401
    assert (await world.client.get("/ops/news", headers=candidate)).status_code == 403

    for broken in (
        {**_item(world), "publish_at": "2026-11-27T12:00:00"},  # no time zone: which 12:00?
        {**_item(world), "kind": "advert"},
        {**_item(world), "title": ""},
        {**_item(world), "title": "x" * 201},
        {**_item(world), "body": "bad\x00byte"},
        {**_item(world), "publish_at": "0001-01-01T00:00:00+08:00"},
    ):
        refused = await world.client.post("/ops/news", json=broken, headers=ops)
        assert refused.status_code == 422, (broken, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json()["title"])
    missing = await world.client.put(f"/ops/news/{uuid.uuid4()}", json=_item(world), headers=ops)
    assert missing.status_code == 404 and world.code(missing) == "news_not_found"
    assert world.code(await world.client.delete(f"/ops/news/{uuid.uuid4()}", headers=ops)) == "news_not_found"
    assert await world.scalar("SELECT count(*) FROM news_items") == 0
    assert await world.scalar("SELECT count(*) FROM news_audit") == 0
