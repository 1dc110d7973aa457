"""Provincial notices (省通告) on the home page (issue 15, point 6): operations and a province's
administrator write them with a publish time; an administrator writes only their province's,
and another province's item is not even visible (404, as every service answers out of scope)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


def _admin(world, province: str | None, passport_id: str | None = None) -> dict[str, str]:
    token = world.tokens.signer.issue(
        passport_id=passport_id or uuid.uuid4().hex.upper(),
        roles=["province_admin"],
        token_version=0,
        school_code=None,
        province_code=province,
        now=datetime.now(UTC),
    )
    return {"authorization": f"Bearer {token}"}


def _notice(world, province: str | None = "99", *, kind: str = "province", title: str = "(99)测试省报名须知", at=None) -> dict:
    body = {"kind": kind, "title": title, "body": "一、遵守时间\n二、遵守记录", "publish_at": (at or world.ctx.clock.now()).isoformat()}
    return body | ({"province_code": province} if province else {})


async def test_a_province_administrator_publishes_their_provinces_notice_at_its_time(world) -> None:
    admin_id = uuid.uuid4().hex.upper()
    admin = _admin(world, "99", admin_id)
    later = world.ctx.clock.now() + timedelta(hours=1)
    created = await world.client.post("/ops/news", json=_notice(world, at=later), headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["province_code"] == "99"
    assert [n["title"] for n in (await world.client.get("/news")).json()] == []  # not before its publish time
    world.ctx.clock.advance(timedelta(hours=1))
    public = (await world.client.get("/news")).json()
    assert [(n["kind"], n["province_code"], n["title"]) for n in public] == [("province", "99", "(99)测试省报名须知")]

    changed = await world.client.put(f"/ops/news/{created.json()['id']}", json=_notice(world, title="(99)测试省报名须知（修订）"), headers=admin)
    assert changed.status_code == 200 and changed.json()["title"] == "(99)测试省报名须知（修订）"
    assert await world.scalar("SELECT count(*) FROM news_audit WHERE actor_passport_id = :a", a=admin_id) == 2

    # Operations write every kind, a provincial notice of any province too, and see them all.
    ops = world.tokens.headers(uuid.uuid4().hex.upper(), "ops")
    assert (await world.client.post("/ops/news", json=_notice(world, "11", title="(11)北京市通告"), headers=ops)).status_code == 201
    assert (await world.client.post("/ops/news", json=_notice(world, None, kind="news", title="全国动态"), headers=ops)).status_code == 201
    assert len((await world.client.get("/ops/news", headers=ops)).json()) == 3
    assert [n["title"] for n in (await world.client.get("/ops/news", headers=admin)).json()] == ["(99)测试省报名须知（修订）"]


async def test_a_province_administrator_writes_nothing_else(world) -> None:
    ops = world.tokens.headers(uuid.uuid4().hex.upper(), "ops")
    theirs = (await world.client.post("/ops/news", json=_notice(world, "11", title="(11)北京市通告"), headers=ops)).json()["id"]
    national = (await world.client.post("/ops/news", json=_notice(world, None, kind="news", title="全国动态"), headers=ops)).json()["id"]
    admin = _admin(world, "99")
    before = await world.scalar("SELECT count(*) FROM news_audit")

    # Making another province's notice, or home-page news: 403 (the request itself is out of scope).
    for body in (_notice(world, "11"), _notice(world, None, kind="news"), _notice(world, None, kind="notice")):
        refused = await world.client.post("/ops/news", json=body, headers=admin)
        assert refused.status_code == 403 and world.code(refused) == "news_out_of_scope", body
    # Changing or withdrawing items outside the province: 404, as if they did not exist.
    for item in (theirs, national):
        assert world.code(await world.client.put(f"/ops/news/{item}", json=_notice(world), headers=admin)) == "news_not_found"
        assert world.code(await world.client.delete(f"/ops/news/{item}", headers=admin)) == "news_not_found"
    # Moving their own notice to another province: 403, nothing changes.
    own = (await world.client.post("/ops/news", json=_notice(world), headers=admin)).json()["id"]
    moved = await world.client.put(f"/ops/news/{own}", json=_notice(world, "11"), headers=admin)
    assert moved.status_code == 403
    assert await world.scalar("SELECT province_code FROM news_items WHERE id = :i", i=uuid.UUID(own)) == "99"
    assert await world.scalar("SELECT count(*) FROM news_audit") == before + 1  # only the one it made

    # An administrator token without a province, a teacher, a candidate: refused outright.
    assert world.code(await world.client.get("/ops/news", headers=_admin(world, None))) == "province_admin_without_province"
    for role in ("teacher", "candidate", "support"):
        assert (await world.client.get("/ops/news", headers=world.tokens.headers(uuid.uuid4().hex.upper(), role, school_code="99101"))).status_code == 403


async def test_a_provincial_notice_names_its_province_and_only_it_does(world) -> None:
    ops = world.tokens.headers(uuid.uuid4().hex.upper(), "ops")
    for body in (_notice(world, None), _notice(world, "99", kind="news"), _notice(world, "9"), _notice(world, "991")):
        refused = await world.client.post("/ops/news", json=body, headers=ops)
        assert refused.status_code == 422, (body, refused.text)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json()["title"])
    assert await world.scalar("SELECT count(*) FROM news_items") == 0
