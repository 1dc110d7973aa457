"""The candidate's way: E1 ID types, E2 agreement, E3 query, E4 confirmation, E5 before the window,
E6 save and continue, E7 one to one, E8 header name; and who may see what."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
from sqlalchemy import func, select

from eligibility.db.tables import agreement_acceptances, registrations


async def count_registrations(ctx) -> int:
    async with ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(registrations))


async def test_e2_query_needs_the_agreement_accepted_and_its_version_recorded(world, client, ctx):
    headers = world.candidate()
    refused = await client.post("/qualification/query", json=world.LIAO, headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "agreement_required"
    unticked = await client.post("/agreement", json={"version": ctx.settings.agreement_version, "accepted": False}, headers=headers)
    assert unticked.status_code == 422 and unticked.json()["code"] == "agreement_not_accepted"
    outdated = await client.post("/agreement", json={"version": "2001-1", "accepted": True}, headers=headers)
    assert outdated.status_code == 409 and outdated.json()["code"] == "agreement_outdated"
    assert (await client.get("/agreement", headers=headers)).json() == {"version": ctx.settings.agreement_version, "accepted": False}
    await world.agree(headers)
    assert (await client.get("/agreement", headers=headers)).json()["accepted"] is True
    async with ctx.sessions() as session:
        assert (await session.execute(select(agreement_acceptances.c.version))).scalars().all() == [ctx.settings.agreement_version]
    assert (await client.post("/qualification/query", json=world.LIAO, headers=headers)).status_code == 200


async def test_e1_the_six_id_types_are_accepted_and_military_officer_id_refused(world, client):
    headers = world.candidate()
    await world.agree(headers)
    for id_type in ("resident_id_card", "taiwan_pass", "hk_macao_pass", "passport", "hong_kong_id", "macao_id", "台湾居民往来大陆通行证"):
        response = await client.post("/qualification/query", json={**world.LIAO, "id_type": id_type}, headers=headers)
        assert response.status_code in (200, 404), (id_type, response.text)
    military = await client.post("/qualification/query", json={**world.LIAO, "id_type": "军官证"}, headers=headers)
    assert military.status_code == 422
    assert military.json()["code"] == "id_type_not_supported" and "军官证" in military.json()["title"]
    unknown = await client.post("/qualification/query", json={**world.LIAO, "id_type": "学生证"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["code"] == "id_type_invalid"


async def test_e3_all_three_fields_required_and_clear_no_record(world, client):
    headers = world.candidate()
    await world.agree(headers)
    for missing in ("id_type", "id_number", "name"):
        body = {k: v for k, v in world.LIAO.items() if k != missing}
        response = await client.post("/qualification/query", json=body, headers=headers)
        assert response.status_code == 422 and response.json()["code"] == "invalid_request", missing
    blank = await client.post("/qualification/query", json={**world.LIAO, "name": "  "}, headers=headers)
    assert blank.status_code == 422
    extra = await client.post("/qualification/query", json={**world.LIAO, "admin": True}, headers=headers)
    assert extra.status_code == 422
    wrong_name = await client.post("/qualification/query", json={**world.LIAO, "name": "廖晓"}, headers=headers)
    assert wrong_name.status_code == 404 and wrong_name.json()["code"] == "no_record"
    assert "未查询到" in wrong_name.json()["title"]
    ok = await client.post("/qualification/query", json=world.LIAO, headers=headers)
    assert ok.status_code == 200 and ok.json()["message"] == "查询成功"


async def test_e3_queries_are_rate_limited_per_account_and_per_client(world, client, ctx):
    ctx.settings.queries_per_account = 3
    ctx.settings.queries_per_client = 5
    first = world.candidate()
    await world.agree(first)
    for _ in range(3):
        assert (await client.post("/qualification/query", json={**world.LIAO, "name": "不存在"}, headers=first)).status_code == 404
    limited = await client.post("/qualification/query", json=world.LIAO, headers=first)
    assert limited.status_code == 429 and limited.json()["code"] == "too_many_requests" and "Retry-After" in limited.headers
    second = world.candidate()
    await world.agree(second)
    assert (await client.post("/qualification/query", json=world.LIAO, headers=second)).status_code == 200
    # Four queries from this client address were counted (the refused one was not); the fifth
    # passes and the sixth, from yet another account, is refused by the per-client limit.
    third = world.candidate()
    await world.agree(third)
    assert (await client.post("/qualification/query", json=world.LIAO, headers=third)).status_code == 200
    fourth = world.candidate()
    await world.agree(fourth)
    assert (await client.post("/qualification/query", json=world.LIAO, headers=fourth)).status_code == 429
    ctx.clock.advance(ctx.settings.query_window)
    assert (await client.post("/qualification/query", json=world.LIAO, headers=first)).status_code == 200


async def test_e4_confirmation_page_shows_every_field_with_labels(world, client):
    await world.publish_session()
    headers = world.candidate()
    await world.agree(headers)
    page = (await client.post("/qualification/query", json=world.LIAO, headers=headers)).json()["confirmation"]
    assert page == {
        "name": "廖晓儿",
        "gender": "女",
        "id_type": "resident_id_card",
        "id_type_label": "中华人民共和国居民身份证",
        "id_number": "330101199001010024",
        "qualification_subjects": [{"code": "1", "name": "英语四级笔试"}, {"code": "F", "name": "英语四级口试"}],
        "qualification_subjects_text": "英语四级笔试; 英语四级口试",
        "school_code": "99101",
        "school": "(99101)测试学校",
        "campus_code": "991010",
        "campus": "(991010)99101-0校区",
        "education_level": "专科",
        "program_years": "6",
        "entry_year": "16",
        "grade": "11",
        "department": "化学学院",
        "major": "高分子化学与物理",
        "class_name": "1",
        "student_number": "00001",
        "remarks": "",
        "cet6_review_available": True,
    }
    li_bo = (await client.post("/qualification/query", json=world.LI_BO, headers=headers)).json()["confirmation"]
    assert li_bo["school"] == "(99301)测试学校机构01" and li_bo["campus"] == "(993010)测试校区机构001"
    assert li_bo["qualification_subjects_text"] == "英语四级笔试; 日语四级笔试; 日语六级笔试"
    yan = (await client.post("/qualification/query", json=world.YAN, headers=headers)).json()["confirmation"]
    assert yan["cet6_review_available"] is False, "already holds 英语六级"


async def test_e5_before_the_window_view_only_nothing_bound_several_candidates(world, client, ctx):
    await world.publish_session(opens_in=timedelta(days=2))
    headers = world.candidate()
    await world.agree(headers)
    for who in (world.LIAO, world.LI_BO, world.YAN):
        response = await client.post("/qualification/query", json=who, headers=headers)
        assert response.status_code == 200
        assert response.json()["window"] == "before" and response.json()["can_save"] is False
    early = await world.save(headers, world.LIAO)
    assert early.status_code == 409 and early.json()["code"] == "registration_not_open"
    assert await count_registrations(ctx) == 0
    home = (await client.get("/home", headers=headers)).json()
    assert home["header_name"] == "未设置" and home["bound"] is False


async def test_e6_save_inside_the_window_with_the_box_ticked_binds_and_publishes(world, client, ctx):
    sid = await world.publish_session()
    headers = world.candidate()
    await world.agree(headers)
    unticked = await client.post("/registrations", json={**world.LIAO, "confirmed": False}, headers=headers)
    assert unticked.status_code == 422 and unticked.json()["code"] == "confirm_required"
    assert await count_registrations(ctx) == 0
    saved = await world.save(headers, world.LIAO)
    assert saved.status_code == 200 and saved.json()["message"] == "保存成功"
    body = saved.json()
    assert body["registration"]["id_number"] == "330*************24", "masked on the registration page"
    (event,) = await world.published("RegistrationBound")
    assert event["key"] == body["registration_id"]
    payload = event["payload"]
    assert payload["exam_session_id"] == str(sid) and payload["passport_id"] == headers_passport(world, headers)
    assert payload["snapshot"]["name"] == "廖晓儿" and payload["snapshot"]["qualification_subjects"] == ["1", "F"]
    assert payload["snapshot"]["school_code"] == "99101" and payload["snapshot"]["campus_code"] == "991010"
    again = await world.save(headers, world.LIAO)
    assert again.status_code == 200 and again.json()["registration_id"] == body["registration_id"]
    assert len(await world.published("RegistrationBound")) == 1, "saving twice binds once"


async def test_e6_after_the_window_saving_is_refused(world, client, ctx):
    await world.publish_session(lasts=timedelta(hours=1))
    ctx.clock.advance(timedelta(hours=2))
    headers = world.candidate()
    await world.agree(headers)
    late = await world.save(headers, world.LIAO)
    assert late.status_code == 409 and late.json()["code"] == "registration_closed"


async def test_e7_one_to_one_second_tries_point_to_account_recovery(world, client, ctx):
    await world.publish_session()
    first, _ = await world.bound(world.LIAO)
    other_candidate = await world.save(first, world.LI_BO)
    assert other_candidate.status_code == 409 and other_candidate.json()["code"] == "account_already_bound"
    second = world.candidate()
    await world.agree(second)
    taken = await world.save(second, world.LIAO)
    assert taken.status_code == 409
    assert taken.json()["code"] == "candidate_already_bound"
    assert "找回已报名账号" in taken.json()["title"] and taken.json()["recovery"] == "/account-recovery"
    assert await count_registrations(ctx) == 1
    # In another exam session the same account may bind again (one to one is per session).
    await world.publish_session(session_id=uuid.uuid4(), opens_in=timedelta(days=200), name="2017年下半年CET考试")
    ctx.clock.advance(timedelta(days=201))
    assert (await world.save(second, world.LIAO)).status_code == 200


async def test_e8_header_name_before_and_after_binding_and_start_page(world, client):
    await world.publish_session(name="2017年下半年CET考试")
    headers = world.candidate()
    before = (await client.get("/home", headers=headers)).json()
    assert before["header_name"] == "未设置"
    assert before["exam_session_name"] == "2017年下半年CET考试"
    assert before["registration_status"] == "未报名或当前通行证账号非报名时账号"
    await world.agree(headers)
    await world.save(headers, world.LIAO)
    after = (await client.get("/home", headers=headers)).json()
    assert after["header_name"] == "廖晓儿" and after["bound"] is True and after["registration_status"] == "已保存报名信息"


async def test_privacy_a_candidate_sees_only_their_own_registration(world, client):
    await world.publish_session()
    liao, _ = await world.bound(world.LIAO)
    stranger = world.candidate()
    assert (await client.get("/registrations/me", headers=stranger)).status_code == 404
    mine = (await client.get("/registrations/me", headers=liao)).json()
    assert mine["registration"]["name"] == "廖晓儿"


async def test_roles_are_checked_on_every_candidate_endpoint(world, client, tokens):
    teacher = tokens.headers(None, "teacher", school_code="99101")
    for method, path in (("GET", "/home"), ("POST", "/qualification/query"), ("POST", "/registrations"), ("GET", "/registrations/me"), ("GET", "/cet6-review")):
        assert (await client.request(method, path, json=world.LIAO)).status_code == 401, path
        assert (await client.request(method, path, json=world.LIAO, headers=teacher)).status_code == 403, path
    forged = {"authorization": "Bearer " + tokens.token(None, "candidate")[:-4] + "AAAA"}
    assert (await client.get("/home", headers=forged)).status_code == 401


def headers_passport(world, headers) -> str:
    return jwt.decode(headers["authorization"].split()[1], options={"verify_signature": False})["sub"]


async def test_privacy_names_and_id_numbers_never_reach_the_logs(world, client, ctx, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    await world.publish_session()
    headers = world.candidate()
    await world.agree(headers)
    await client.post("/qualification/query", json=world.LIAO, headers=headers)
    await client.post("/qualification/query", json={**world.LIAO, "name": "不存在的人"}, headers=headers)
    await world.save(headers, world.LIAO)
    await world.save(world.candidate(), world.LIAO)
    await client.post("/account-recovery", json={**world.LI_BO, "captcha_token": "x", "captcha_answer": "y"})
    text = caplog.text
    for secret in (world.LIAO["id_number"], world.LIAO["name"], "不存在的人", world.LI_BO["id_number"], world.LI_BO["name"]):
        assert secret not in text
