"""Strict input (issue 13): a resident ID with a wrong check character is a typo with its own 422,
not "no record"; booleans are JSON booleans only."""

from __future__ import annotations


def wrong_check_character(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


async def test_e3_a_resident_id_with_a_wrong_check_digit_gets_its_own_422(world, client):
    headers = world.candidate()
    await world.agree(headers)
    typo = {**world.LIAO, "id_number": wrong_check_character(world.LIAO["id_number"])}
    for path in ("/qualification/query", "/registrations", "/account-recovery"):
        body = {**typo, "captcha_token": "t", "captcha_answer": "a"} if path == "/account-recovery" else typo
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "id_number_invalid" and response.json()["title"] == "身份证号码校验位错误", path
    # other ID types have no check character; a valid resident ID still finds the candidate
    other = await client.post("/qualification/query", json={**typo, "id_type": "passport"}, headers=headers)
    assert other.status_code == 404 and other.json()["code"] == "no_record"
    assert (await client.post("/qualification/query", json=world.LIAO, headers=headers)).status_code == 200


async def test_booleans_are_json_booleans_only(world, client, ctx):
    headers = world.candidate()
    for lenient in (1, 0, "true", "yes"):
        response = await client.post("/agreement", json={"version": ctx.settings.agreement_version, "accepted": lenient}, headers=headers)
        assert response.status_code == 422 and response.json()["code"] == "invalid_request", lenient
    await world.agree(headers)
    saved = await client.post("/registrations", json={**world.LIAO, "confirmed": 1}, headers=headers)
    assert saved.status_code == 422 and saved.json()["code"] == "invalid_request"
