"""Accounts across services, through the gateway: password recovery by the mailed link (P4),
email change (P6) seen by eligibility's account recovery (E11), CET6 review rules 2 and 3
(E10), and support's rebinding (E12): the new account sees the registration, the old one not."""

from __future__ import annotations

import uuid

import httpx
from cet_stack import Mailbox, Stack
from e2e_clients import PASSWORD, User, register, wait_until

LIAO = {"id_type": "resident_id_card", "id_number": "330101199001010024", "name": "廖晓儿"}
YAN = {"id_type": "resident_id_card", "id_number": "990101200001010014", "name": "颜测试"}
WANG = {"id_type": "resident_id_card", "id_number": "990101200003030035", "name": "王测试"}
ZHAO = {"id_type": "resident_id_card", "id_number": "990101199705050051", "name": "赵测试"}


async def bound_candidate(stack: Stack, identity: dict) -> User:
    """Register, log in, accept the agreement, save and bind `identity` in the open session."""
    user = await register(stack)
    version = (await user.get("/api/eligibility/agreement")).json()["version"]
    assert (await user.post("/api/eligibility/agreement", json={"version": version, "accepted": True})).status_code == 200

    async def saved() -> bool:  # the open session may still be on its way to eligibility
        response = await user.post("/api/eligibility/registrations", json={**identity, "confirmed": True})
        assert response.status_code in (200, 409), response.text
        return response.status_code == 200

    await wait_until(saved, what=f"saving {identity['name']}")
    return user


async def test_p4_password_recovery_through_the_mailed_link(stack: Stack, open_session: uuid.UUID) -> None:
    user = await register(stack)
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as browser:
        asked = await browser.post("/api/passport/password/recovery", json={"email": user.email, **stack.captcha()})
        assert asked.status_code == 202, asked.text
        mail = (await stack.mailbox.wait(user.email, "密码找回"))[0]
        body = Mailbox.body(mail)
        assert body.count("/password/reset?token=") == 2  # campus and public links, same token
        token = Mailbox.link_token(mail)
        new_password = "Recovered-2017!"
        reset = await browser.post(
            "/api/passport/password/reset", json={"token": token, "email": user.email, "password": new_password, "confirm_password": new_password}
        )
        assert reset.status_code == 200, reset.text
        again = await browser.post(
            "/api/passport/password/reset", json={"token": token, "email": user.email, "password": "Another-2017!", "confirm_password": "Another-2017!"}
        )
        assert again.status_code == 400 and again.json()["code"] == "link_invalid"  # a link works once
        old = await browser.post("/api/passport/sessions", json={"email": user.email, "password": PASSWORD, **stack.captcha()})
        assert old.status_code in (400, 401)
    # the token issued before the reset no longer works (sessions end on a password change)
    assert (await user.get("/api/passport/me")).status_code == 401
    await User(stack, user.email, new_password).log_in()
    await user.close()


async def test_p6_email_change_reaches_eligibility_and_e11_account_recovery(stack: Stack, open_session: uuid.UUID) -> None:
    """廖晓儿 binds, changes her email (verified by the link sent to the new address); 找回已报名账号
    then shows the new address, masked: AccountEmailChanged travelled passport → Kafka → eligibility."""
    user = await bound_candidate(stack, LIAO)
    new_email = f"liao-{uuid.uuid4().hex[:8]}@example.com"
    change = await user.post("/api/passport/me/email", json={"new_email": new_email, **stack.captcha()})
    assert change.status_code == 202, change.text
    mail = (await stack.mailbox.wait(new_email, "邮箱验证"))[0]
    verified = await user.post("/api/passport/email/verify", json={"token": Mailbox.link_token(mail)})
    assert verified.status_code == 200, verified.text
    assert (await user.get("/api/passport/me")).json()["email"] == new_email
    await User(stack, new_email).log_in()

    local, domain = new_email.split("@")
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as browser:
        wrong = await browser.post("/api/eligibility/account-recovery", json={**LIAO, "name": "廖晓", **stack.captcha()})
        assert wrong.status_code == 200 and wrong.json()["found"] is False

        async def recovered() -> dict | None:
            response = await browser.post("/api/eligibility/account-recovery", json={**LIAO, **stack.captcha()})
            assert response.status_code == 200, response.text
            body = response.json()
            return body if body["found"] and body["email"].endswith("@" + domain) and body["email"][:2] == local[:2] and body["email"] != user.email else None

        body = await wait_until(recovered, what="eligibility to learn the new email")
        assert body["message"] == "找回成功" and new_email not in body["email"] and "*" in body["email"]
        no_captcha = await browser.post("/api/eligibility/account-recovery", json={**LIAO, "captcha_token": "x", "captcha_answer": "x"})
        assert no_captcha.status_code == 400 and no_captcha.json()["code"] == "captcha_invalid"
    await user.close()


async def test_e10_rule2_teacher_approves_and_rule3_is_refused(stack: Stack, staff: dict[str, User], open_session: uuid.UUID) -> None:
    wang = await bound_candidate(stack, WANG)
    pending = await wang.post("/api/eligibility/cet6-review", json={**WANG, "ticket_number": "991010161100203", "confirmed": True})
    assert pending.status_code == 201 and pending.json()["status"] == "pending", pending.text
    locked = await wang.delete("/api/eligibility/cet6-review")
    assert locked.status_code == 409 and locked.json()["code"] == "review_pending_locked"
    teacher = staff["teacher"]
    listed = (await teacher.get("/api/eligibility/teacher/cet6-reviews", params={"status": "pending"})).json()["items"]
    mine = [item for item in listed if item["name"] == "王测试"]
    assert len(mine) == 1 and "990101200003030035" not in str(mine)
    # the candidate cannot decide for herself
    assert (await wang.post(f"/api/eligibility/teacher/cet6-reviews/{mine[0]['id']}/approve", json={})).status_code == 403
    approved = await teacher.post(f"/api/eligibility/teacher/cet6-reviews/{mine[0]['id']}/approve", json={"note": "成绩单核对无误"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert (await wang.get("/api/eligibility/cet6-review")).json()["status_label"] == "复核通过"
    assert "英语六级" in str((await wang.get("/api/eligibility/registrations/me")).json())

    zhao = await bound_candidate(stack, ZHAO)
    refused = await zhao.post("/api/eligibility/cet6-review", json={**ZHAO, "ticket_number": "991010161100304", "confirmed": True})
    assert refused.status_code == 422 and refused.json()["title"], refused.text
    assert (await zhao.get("/api/eligibility/cet6-review")).status_code == 404  # nothing stored
    for user in (wang, zhao):
        await user.close()


async def test_e12_support_rebinding_moves_the_registration_to_the_new_account(stack: Stack, staff: dict[str, User], open_session: uuid.UUID) -> None:
    old = await bound_candidate(stack, YAN)
    assert (await old.get("/api/eligibility/home")).json()["header_name"] == "颜测试"
    new = await register(stack)
    support = staff["support"]
    # candidates cannot use support's tools
    assert (await old.post("/api/eligibility/support/registrations/search", json={"id_type": YAN["id_type"], "id_number": YAN["id_number"]})).status_code == 403
    found = await support.post("/api/eligibility/support/registrations/search", json={"id_type": YAN["id_type"], "id_number": YAN["id_number"]})
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert len(items) == 1
    registration_id = items[0]["registration_id"] if "registration_id" in items[0] else items[0]["id"]
    rebound = await support.post(
        f"/api/eligibility/support/registrations/{registration_id}/rebind", json={"new_passport_id": new.passport_id, "reason": "考生来电，原邮箱已停用"}
    )
    assert rebound.status_code == 200, rebound.text
    assert rebound.json()["old_passport_id"] == old.passport_id
    new_home = (await new.get("/api/eligibility/home")).json()
    old_home = (await old.get("/api/eligibility/home")).json()
    assert new_home["header_name"] == "颜测试" and new_home["bound"] is True
    assert old_home["header_name"] == "未设置" and old_home["bound"] is False
    if "enrolment" in stack.services:  # RegistrationRebound: enrolment follows eligibility

        async def moved() -> bool:
            new_page, old_page = await new.get("/api/enrolment/me/registration"), await old.get("/api/enrolment/me/registration")
            return new_page.status_code == 200 and new_page.json()["personal"]["name"] == "颜测试" and old_page.status_code == 404

        await wait_until(moved, what="enrolment to move the registration to the new account")
    for user in (old, new):
        await user.close()
