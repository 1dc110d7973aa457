"""E10 CET6 qualification review: button condition, rules 1/2/3, one per account, locked and
frozen states, teacher review scoped to the school, resubmission throttle, teacher applications."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from cet_shared.privacy import FULL_MASK
from eligibility.cli import DEMO
from eligibility.db.tables import cet6_reviews, registrations
from eligibility.service.registry import import_scores, import_students

# 廖晓儿's name on a passing CET4 record under another ID number (rule 2), a failed record,
# and an old one.
SCORES = """ticket_number,id_number,name,score,year,half
991010161100105,110101199003070011,廖晓儿,500,2016,1
991010161100106,330101199001010024,廖晓儿,400,2016,1
"""


async def reviews(ctx) -> int:
    async with ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(cet6_reviews))


def form(who: dict, ticket: str, **extra) -> dict:
    return {**who, "ticket_number": ticket, "confirmed": True, **extra}


async def test_e10_button_condition_campus_bar_and_existing_cet6(world, client, ctx):
    await world.publish_session()
    headers = world.candidate()
    await world.agree(headers)
    shown = (await client.post("/qualification/query", json=world.LI_BO, headers=headers)).json()["confirmation"]
    assert shown["cet6_review_available"] is True
    has_cet6 = (await client.post("/qualification/query", json=world.YAN, headers=headers)).json()["confirmation"]
    assert has_cet6["cet6_review_available"] is False
    refused = await client.post("/cet6-review", json=form(world.YAN, "991010161100102"), headers=headers)
    assert refused.status_code == 409 and refused.json()["code"] == "review_not_available"
    # The campus stops offering CET6 and the candidate is barred: no button, no application.
    text = (DEMO / "students.csv").read_text(encoding="utf-8").replace("测试校区机构001,是", "测试校区机构001,否")
    await import_students(ctx.unit_of_work(), ctx.clock, text, school_scope=None)
    no_campus = (await client.post("/qualification/query", json=world.LI_BO, headers=headers)).json()["confirmation"]
    assert no_campus["cet6_review_available"] is False
    barred = (DEMO / "students.csv").read_text(encoding="utf-8").replace("1;F,否", "1;F,是")
    await import_students(ctx.unit_of_work(), ctx.clock, barred, school_scope=None)
    liao = (await client.post("/qualification/query", json=world.LIAO, headers=headers)).json()["confirmation"]
    assert liao["cet6_review_available"] is False
    assert await reviews(ctx) == 0


async def test_e10_rule1_ticket_and_id_match_approves_at_once_and_grants_cet6(world, client, ctx):
    await world.publish_session()
    headers, saved = await world.bound(world.LI_BO)
    # The name need not match the score record under rule 1.
    response = await client.post("/cet6-review", json=form(world.LI_BO, world.LI_BO_TICKET), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "approved" and response.json()["granted_subjects"] == ["2"]
    (granted,) = await world.published("QualificationGranted")
    assert granted["key"] == saved["registration_id"]
    assert granted["payload"]["subject_codes"] == ["2"] and granted["payload"]["reason"] == "cet6_review_rule1"
    page = (await client.get("/registrations/me", headers=headers)).json()["registration"]
    assert "英语六级笔试" in page["qualification_subjects_text"] and page["cet6_review_available"] is False
    view = (await client.get("/cet6-review", headers=headers)).json()
    assert [view[k] for k in ("name", "id_type", "id_number", "ticket_number")] == [FULL_MASK] * 4
    assert view["status_label"] == "复核通过" and view["can_edit"] is False and view["can_delete"] is False
    # Approved: frozen.
    assert (await client.put("/cet6-review", json=form(world.LI_BO, world.LI_BO_TICKET), headers=headers)).json()["code"] == "review_approved_frozen"
    assert (await client.delete("/cet6-review", headers=headers)).json()["code"] == "review_approved_frozen"


async def test_e10_rule2_name_match_goes_pending_locked_until_a_teacher_of_the_school_approves(world, client, ctx, tokens):
    await import_scores(ctx.unit_of_work(), ctx.clock, SCORES)
    await world.publish_session()
    headers, saved = await world.bound(world.LIAO)
    response = await client.post("/cet6-review", json=form(world.LIAO, "991010161100105"), headers=headers)
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert "未复核" in response.json()["message"]
    assert (await client.get("/cet6-review", headers=headers)).json()["status_label"] == "未复核"
    assert await world.published("QualificationGranted") == []
    # Pending: cannot be edited or withdrawn.
    edit = await client.put("/cet6-review", json=form(world.LIAO, "991010161100105"), headers=headers)
    assert edit.status_code == 409 and edit.json()["code"] == "review_pending_locked"
    assert (await client.delete("/cet6-review", headers=headers)).json()["code"] == "review_pending_locked"
    # Another school's teacher sees nothing and cannot decide.
    other = tokens.headers(None, "teacher", school_code="99301")
    assert (await client.get("/teacher/cet6-reviews", headers=other)).json()["items"] == []
    teacher = tokens.headers(None, "teacher", school_code="99101")
    (item,) = (await client.get("/teacher/cet6-reviews?status=pending", headers=teacher)).json()["items"]
    assert item["name"] == "廖晓儿" and item["id_number"] == "330*************24" and item["rule"] == "rule2"
    assert (await client.post(f"/teacher/cet6-reviews/{item['id']}/approve", json={}, headers=other)).status_code == 404
    assert (await client.post(f"/teacher/cet6-reviews/{item['id']}/approve", json={}, headers=headers)).status_code == 403, "candidates cannot approve"
    approved = await client.post(f"/teacher/cet6-reviews/{item['id']}/approve", json={"note": "已核对证明"}, headers=teacher)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    (granted,) = await world.published("QualificationGranted")
    assert granted["key"] == saved["registration_id"] and granted["payload"]["reason"] == "cet6_review_teacher"
    # 廖晓儿 holds 英语四级口试 (F): CET6 qualification covers 英语六级口试 (S) too.
    assert granted["payload"]["subject_codes"] == ["2", "S"]
    again = await client.post(f"/teacher/cet6-reviews/{item['id']}/reject", json={}, headers=teacher)
    assert again.status_code == 409 and again.json()["code"] == "review_not_pending"


async def test_e10_rejected_may_be_edited_and_resubmitted_throttled_or_deleted(world, client, ctx, tokens):
    ctx.settings.review_resubmissions = 2
    await import_scores(ctx.unit_of_work(), ctx.clock, SCORES)
    await world.publish_session()
    headers, _ = await world.bound(world.LIAO)
    teacher = tokens.headers(None, "teacher", school_code="99101")

    async def reject() -> None:
        (item,) = (await client.get("/teacher/cet6-reviews?status=pending", headers=teacher)).json()["items"]
        response = await client.post(f"/teacher/cet6-reviews/{item['id']}/reject", json={"note": "证件号码不符"}, headers=teacher)
        assert response.status_code == 200 and response.json()["status_label"] == "复核未通过"

    await client.post("/cet6-review", json=form(world.LIAO, "991010161100105"), headers=headers)
    await reject()
    view = (await client.get("/cet6-review", headers=headers)).json()
    assert view["status"] == "rejected" and view["can_edit"] and view["can_delete"] and view["decision_note"] == "证件号码不符"
    assert (await client.post("/cet6-review", json=form(world.LIAO, "991010161100105"), headers=headers)).json()["code"] == "review_exists"
    # Rule 3 on resubmission stores nothing: the application stays rejected.
    bad = await client.put("/cet6-review", json=form(world.LIAO, "991010161100106"), headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "review_not_passed"
    assert (await client.get("/cet6-review", headers=headers)).json()["status"] == "rejected"
    resubmitted = await client.put("/cet6-review", json=form(world.LIAO, "991010161100105"), headers=headers)
    assert resubmitted.status_code == 200 and resubmitted.json()["status"] == "pending"
    await reject()
    throttled = await client.put("/cet6-review", json=form(world.LIAO, "991010161100105"), headers=headers)
    assert throttled.status_code == 429, "two resubmissions a day"
    ctx.clock.advance(ctx.settings.review_resubmission_window)
    assert (await client.delete("/cet6-review", headers=headers)).status_code == 204
    assert (await client.get("/cet6-review", headers=headers)).status_code == 404
    assert await reviews(ctx) == 0


async def test_e10_rule3_refusals_store_nothing(world, client, ctx):
    await import_scores(ctx.unit_of_work(), ctx.clock, SCORES)
    await world.publish_session()
    headers, _ = await world.bound(world.LIAO)
    cases = {
        "991010161100199": "review_ticket_unknown",
        world.LI_BO_TICKET: "review_record_mismatch",  # neither ID number nor name is 廖晓儿's
        "991010161100106": "review_not_passed",
        "99101016110010": "ticket_number_invalid",
    }
    for ticket, code in cases.items():
        response = await client.post("/cet6-review", json=form(world.LIAO, ticket), headers=headers)
        assert response.status_code == 422 and response.json()["code"] == code, (ticket, response.text)
    unticked = await client.post("/cet6-review", json=form(world.LIAO, "991010161100105", confirmed=False), headers=headers)
    assert unticked.json()["code"] == "confirm_required"
    assert await reviews(ctx) == 0 and await world.published("QualificationGranted") == []


async def test_e10_one_application_per_account_and_only_for_the_bound_candidate(world, client, ctx):
    await import_scores(ctx.unit_of_work(), ctx.clock, SCORES)
    await world.publish_session()
    headers, _ = await world.bound(world.LI_BO)
    other = await client.post("/cet6-review", json=form(world.LIAO, "991010161100105"), headers=headers)
    assert other.status_code == 403 and other.json()["code"] == "review_other_candidate"
    assert (await client.post("/cet6-review", json=form(world.LI_BO, world.LI_BO_TICKET), headers=headers)).status_code == 201
    twice = await client.post("/cet6-review", json=form(world.LI_BO, world.LI_BO_TICKET), headers=headers)
    assert twice.status_code == 409
    assert await reviews(ctx) == 1


async def test_e10_approved_before_saving_is_part_of_the_saved_snapshot(world, client, ctx):
    """The button is on the confirmation page too (before saving, E5): a grant made then is
    kept on the student and included when the registration is saved."""
    await world.publish_session(opens_in=timedelta(days=1))
    headers = world.candidate()
    await world.agree(headers)
    assert (await client.post("/cet6-review", json=form(world.LI_BO, world.LI_BO_TICKET), headers=headers)).status_code == 201
    assert await world.published("QualificationGranted") == [], "no registration yet to announce"
    ctx.clock.advance(timedelta(days=1))
    saved = await world.save(headers, world.LI_BO)
    assert saved.json()["registration"]["qualification_subjects_text"] == "英语四级笔试; 英语六级笔试; 日语四级笔试; 日语六级笔试"
    (bound,) = await world.published("RegistrationBound")
    assert bound["payload"]["snapshot"]["qualification_subjects"] == ["1", "2", "3", "4"]


async def test_e10_teacher_applies_for_a_candidate_with_a_pre_2005_score(world, client, ctx, tokens):
    await world.publish_session()
    headers, saved = await world.bound(world.LIAO)
    body = {**world.LIAO, "ticket_number": None, "note": "2004年成绩，已核验成绩单原件"}
    other_school = await client.post("/teacher/cet6-reviews", json=body, headers=tokens.headers(None, "teacher", school_code="99301"))
    assert other_school.status_code == 404, "a teacher applies only for their own school's candidates"
    candidate_try = await client.post("/teacher/cet6-reviews", json=body, headers=headers)
    assert candidate_try.status_code == 403
    teacher = tokens.headers(None, "teacher", school_code="99101")
    response = await client.post("/teacher/cet6-reviews", json=body, headers=teacher)
    assert response.status_code == 201 and response.json()["status"] == "approved"
    (granted,) = await world.published("QualificationGranted")
    assert granted["key"] == saved["registration_id"] and granted["payload"]["reason"] == "cet6_review_teacher"
    view = (await client.get("/cet6-review", headers=headers)).json()
    assert view["status"] == "approved" and view["ticket_number"] == FULL_MASK
    async with ctx.sessions() as session:
        quals = await session.scalar(select(registrations.c.qualification_subjects))
    assert quals == ["1", "2", "F", "S"]
    frozen = await client.post("/teacher/cet6-reviews", json=body, headers=teacher)
    assert frozen.status_code == 409 and frozen.json()["code"] == "review_approved_frozen"


async def test_e10_teacher_application_before_binding_joins_the_account_that_saves(world, client, ctx, tokens):
    """Forgotten ticket number: the teacher applies before the candidate has saved; the
    application joins the account that saves the candidate, and the snapshot carries 英语六级."""
    await world.publish_session()
    teacher = tokens.headers(None, "teacher", school_code="99301")
    body = {**world.LI_BO, "note": "考生忘记准考证号，已核验成绩证明"}
    assert (await client.post("/teacher/cet6-reviews", json=body, headers=teacher)).status_code == 201
    headers, saved = await world.bound(world.LI_BO)
    assert saved["registration"]["qualification_subjects_text"] == "英语四级笔试; 英语六级笔试; 日语四级笔试; 日语六级笔试"
    view = (await client.get("/cet6-review", headers=headers)).json()
    assert view["status"] == "approved" and view["name"] == FULL_MASK
