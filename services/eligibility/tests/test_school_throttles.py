"""Throttles that fit a school behind one NAT address (issue 13): account recovery and queries are
limited per recovered / queried ID number, with only a high ceiling per client address."""

from __future__ import annotations

from datetime import timedelta


def captcha(ctx, answer: str = "K7PX") -> dict[str, str]:
    return {"captcha_token": ctx.captcha.seal(answer, clock=ctx.clock, ttl=timedelta(minutes=5)), "captcha_answer": answer}


async def test_e11_a_computer_room_recovers_many_accounts_but_one_id_number_only_a_few_times(world, client, ctx):
    room = 30  # candidates at one NAT address; the old per-address budget was 10 per 15 minutes
    for i in range(room):
        who = {"id_type": "passport", "id_number": f"E{i:08d}", "name": "某同学"}
        answer = await client.post("/account-recovery", json={**who, **captcha(ctx)})
        assert answer.status_code == 200, (i, answer.text)
    target = {"id_type": "passport", "id_number": "E99999999", "name": "某同学"}
    for _ in range(ctx.settings.recovery_requests_per_target):
        assert (await client.post("/account-recovery", json={**target, **captcha(ctx)})).status_code == 200
    limited = await client.post("/account-recovery", json={**target, "name": "另一个名字", **captcha(ctx)})
    assert limited.status_code == 429 and limited.json()["code"] == "too_many_requests"


async def test_e3_one_id_number_cannot_be_queried_without_end_from_many_accounts(world, client, ctx):
    ctx.settings.queries_per_target = 3
    for _ in range(3):
        headers = world.candidate()
        await world.agree(headers)
        assert (await client.post("/qualification/query", json=world.LIAO, headers=headers)).status_code == 200
    headers = world.candidate()
    await world.agree(headers)
    limited = await client.post("/qualification/query", json=world.LIAO, headers=headers)
    assert limited.status_code == 429
    other = {**world.LIAO, "id_type": "passport", "id_number": "E12345678"}
    assert (await client.post("/qualification/query", json=other, headers=headers)).status_code == 404, "another ID number is not limited"
