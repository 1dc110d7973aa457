"""The candidate's journey as the guide tells it, every step through the gateway, every service
its own processes (issue 6, "The journey"). The steps run in order and share one candidate,
李博 of (99301)测试学校机构01 — the guide's example for written 英语四级 + 日语六级 and the CET6
review. Rule IDs: P1 P2 P3 P5 (passport), E2 E3 E4 E5 E6 E8 E10 (eligibility), N3 N4 N5 N8 N9 N10
N11 N12 (enrolment), Y1 Y2 Y3 Y6 (payment, receipts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cet_stack import Mailbox, Stack
from e2e_clients import PASSWORD, Sessions, User, pay_in_the_sandbox, registration_page, wait_until

LI_BO = {"id_type": "macao_id", "id_number": "99101000001", "name": "李博"}
UPCOMING = "2018年上半年CET考试"
OPEN = "2017年下半年CET考试"


@pytest.fixture(scope="module")
async def journey() -> dict:
    return {}


async def home_of(user: User) -> dict:
    response = await user.get("/api/eligibility/home")
    assert response.status_code == 200, response.text
    return response.json()


async def test_p1_p3_register_with_captcha_and_verify_the_email(stack: Stack, journey: dict) -> None:
    """P3 captcha image → P1 register → P5 the verification link in the mail → P2 log in."""
    email = f"libo-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as browser:
        challenge = (await browser.get("/api/passport/captcha")).json()
        assert challenge["image"].startswith("data:image/png;base64,") and challenge["captcha_token"]
        # a wrong answer is refused and nothing is registered
        wrong = await browser.post(
            "/api/passport/accounts",
            json={"email": email, "password": PASSWORD, "confirm_password": PASSWORD, "captcha_token": challenge["captcha_token"], "captcha_answer": "????"},
        )
        assert wrong.status_code == 400 and wrong.json()["code"] == "captcha_invalid"
        registered = await browser.post("/api/passport/accounts", json={"email": email, "password": PASSWORD, "confirm_password": PASSWORD, **stack.captcha()})
        assert registered.status_code == 202, registered.text

        mail = (await stack.mailbox.wait(email, "邮箱验证"))[0]
        link_token = Mailbox.link_token(mail)
        assert stack.gateway in Mailbox.body(mail)  # the link leads to this portal
        verified = await browser.post("/api/passport/email/verify", json={"token": link_token})
        assert verified.status_code == 200, verified.text

    user = await User(stack, email).log_in()
    me = (await user.get("/api/passport/me")).json()
    assert me["email"] == email and me["email_verified"] is True and me["roles"] == ["candidate"]
    journey["user"] = user


async def test_e8_start_page_before_binding_shows_name_not_set(journey: dict) -> None:
    home = await home_of(journey["user"])
    assert home["header_name"] == "未设置"
    assert home["bound"] is False and home["agreement_accepted"] is False


async def test_e2_agreement_before_the_qualification_query(journey: dict) -> None:
    user: User = journey["user"]
    early = await user.post("/api/eligibility/qualification/query", json=LI_BO)
    assert early.status_code in (403, 409, 422) and early.json()["code"]  # the agreement comes first
    version = (await user.get("/api/eligibility/agreement")).json()["version"]
    refused = await user.post("/api/eligibility/agreement", json={"version": version, "accepted": False})
    assert refused.status_code == 422 and refused.json()["code"] == "agreement_not_accepted"
    accepted = await user.post("/api/eligibility/agreement", json={"version": version, "accepted": True})
    assert accepted.status_code == 200 and (await home_of(user))["agreement_accepted"] is True


async def test_e5_before_the_window_the_confirmation_is_view_only(stack: Stack, journey: dict, sessions: Sessions, registry: None) -> None:
    """A session whose window opens tomorrow: the query shows the confirmation page (E3, E4), but
    saving is refused and nothing is bound (E5)."""
    user: User = journey["user"]
    now = datetime.now(UTC)
    await sessions.publish(UPCOMING, now + timedelta(days=1), now + timedelta(days=20))

    async def upcoming_known() -> bool:
        home = await home_of(user)
        return home["exam_session_name"] == UPCOMING and home["window"] == "before"

    await wait_until(upcoming_known, what="eligibility to learn the upcoming session from Kafka")
    query = await user.post("/api/eligibility/qualification/query", json=LI_BO)
    assert query.status_code == 200, query.text
    page = query.json()
    assert page["message"] == "查询成功"
    text = str(page["confirmation"])
    assert "李博" in text and "测试学校机构01" in text
    save = await user.post("/api/eligibility/registrations", json={**LI_BO, "confirmed": True})
    assert save.status_code == 409 and save.json()["code"] == "registration_not_open"
    assert (await home_of(user))["header_name"] == "未设置"


async def test_e6_inside_the_window_save_and_bind_changes_the_header(stack: Stack, journey: dict, open_session: uuid.UUID) -> None:
    user: User = journey["user"]

    async def open_known() -> bool:
        home = await home_of(user)
        return home["exam_session_name"] == OPEN and home["window"] == "open"

    await wait_until(open_known, what="eligibility to learn the open session")
    unticked = await user.post("/api/eligibility/registrations", json={**LI_BO, "confirmed": False})
    assert unticked.status_code == 422 and unticked.json()["code"] == "confirm_required"
    saved = await user.post("/api/eligibility/registrations", json={**LI_BO, "confirmed": True})
    assert saved.status_code == 200, saved.text
    home = await home_of(user)
    assert home["header_name"] == "李博" and home["bound"] is True
    mine = (await user.get("/api/eligibility/registrations/me")).json()
    assert "99101000001" not in str(mine)  # the ID number is masked
    journey["registration"] = mine


async def test_e10_rule1_cet6_review_with_own_ticket_grants_cet6_at_once(journey: dict) -> None:
    """李博's CET4 ticket 993010162100101 (480, 2016-12) with his ID number: approved at once."""
    user: User = journey["user"]
    review = await user.post("/api/eligibility/cet6-review", json={**LI_BO, "ticket_number": "993010162100101", "confirmed": True})
    assert review.status_code == 201, review.text
    assert review.json()["status"] == "approved" and "2" in review.json()["granted_subjects"]
    view = (await user.get("/api/eligibility/cet6-review")).json()
    assert view["status_label"] == "复核通过" and view["ticket_number"] == view["id_number"] == "*****"
    mine = (await user.get("/api/eligibility/registrations/me")).json()
    assert "英语六级" in str(mine)


# -- enrolment and payment (the journey's second half) --------------------------------------------


async def test_n3_n4_n5_written_subjects_english_cet4_and_japanese_cet6(stack: Stack, journey: dict) -> None:
    user: User = journey["user"]

    async def known() -> bool:  # RegistrationBound (and QualificationGranted) reached enrolment
        response = await user.get("/api/enrolment/me/registration")
        return response.status_code == 200 and any(s["code"] == "2" for s in response.json()["qualification_subjects"])

    await wait_until(known, what="enrolment to learn the registration from Kafka")
    before_notices = await user.post("/api/enrolment/me/written", json={"subject_codes": ["1", "4"]})
    assert before_notices.status_code in (403, 409, 422) and before_notices.json()["code"]  # N3 notices first
    assert (await user.post("/api/enrolment/me/notices/acknowledgement")).status_code == 200
    two_cet4 = await user.post("/api/enrolment/me/written", json={"subject_codes": ["1", "3"]})
    assert two_cet4.status_code in (409, 422), two_cet4.text  # N5 one per level
    enrolled = await user.post("/api/enrolment/me/written", json={"subject_codes": ["1", "4"]})
    assert enrolled.status_code == 201, enrolled.text
    page = await registration_page(user)
    rows = page["written"]["rows"]
    assert [r["subject"] for r in rows] == ["(1) 英语四级笔试", "(4) 日语六级笔试"]
    assert all(r["payment_status"] == "未支付" and r["campus"] == "(993010)测试校区机构001" for r in rows)
    assert page["written"]["payment_status"] == "全未支付" and page["written"]["unpaid_fen"] == 2
    journey["written"] = [r["enrolment_id"] for r in rows]


async def test_n9_n10_n11_oral_english_cet4_at_a_chosen_campus(stack: Stack, journey: dict) -> None:
    user: User = journey["user"]
    response = await user.get("/api/enrolment/me/oral/F/campuses")
    assert response.status_code == 200, response.text
    choice = response.json()
    campuses = {c["campus"]: c for c in choice["campuses"]}
    # 99301 lets its candidates take the oral exam elsewhere: both campuses are offered (N10)
    assert choice["fixed"] is False and "(991010)99101-0校区" in campuses and "(993010)测试校区机构001" in campuses
    chosen = campuses["(991010)99101-0校区"]
    assert chosen["selectable"] and chosen["colour"] == "green"
    enrolled = await user.post("/api/enrolment/me/oral", json={"offering_id": chosen["offering_id"]})
    assert enrolled.status_code == 201, enrolled.text
    after = {c["campus"]: c for c in (await user.get("/api/enrolment/me/oral/F/campuses")).json()["campuses"]}
    assert after["(991010)99101-0校区"]["remaining"] == chosen["remaining"] - 1
    page = await registration_page(user)
    assert [r["subject"] for r in page["oral"]["rows"]] == ["(F) 英语四级口试"]
    journey["oral"] = [r["enrolment_id"] for r in page["oral"]["rows"]]


async def test_y1_y2_y3_pay_written_with_payease_bank_of_china_and_oral_with_alipay(stack: Stack, journey: dict) -> None:
    user: User = journey["user"]
    gateways = (await user.get("/api/payment/gateways")).json()
    payease = next(g for g in gateways if g["gateway"] == "payease")
    bank = next(code for code, label in payease["banks"].items() if label == "中国银行")

    async def previewed():
        response = await user.post("/api/payment/orders/preview", json={"enrolment_ids": journey["written"]})
        assert response.status_code in (200, 404), response.text
        return response if response.status_code == 200 else None

    preview = await wait_until(previewed, what="payment to learn the written subjects")
    assert preview.json()["amount_fen"] == 2 and preview.json()["order_id"] is None, preview.text
    order = await user.post("/api/payment/orders", json={"enrolment_ids": journey["written"]})
    assert order.status_code in (200, 201), order.text
    checkout = await user.post(f"/api/payment/orders/{order.json()['order_id']}/checkout", json={"gateway": "payease", "bank": bank})
    assert checkout.status_code == 200, checkout.text
    assert checkout.json()["confirmation"] == "您选择首信易支付 中国银行进行支付, 支付金额为0.02元人民币"
    await pay_in_the_sandbox(stack, checkout.json())

    async def written_paid() -> bool:
        return (await registration_page(user))["written"]["payment_status"] == "全部支付"

    await wait_until(written_paid, timeout=40, what="the PayEase notification to make the written subjects paid")

    async def oral_ordered():
        response = await user.post("/api/payment/orders", json={"enrolment_ids": journey["oral"]})
        assert response.status_code in (200, 201, 404), response.text
        return response if response.status_code != 404 else None

    oral_order = await wait_until(oral_ordered, what="payment to learn the oral subject")
    checkout = await user.post(f"/api/payment/orders/{oral_order.json()['order_id']}/checkout", json={"gateway": "alipay"})
    assert checkout.status_code == 200, checkout.text
    await pay_in_the_sandbox(stack, checkout.json())

    async def all_paid() -> dict | None:
        page = await registration_page(user)
        return page if page["oral"]["payment_status"] == "全部支付" else None

    page = await wait_until(all_paid, timeout=40, what="the Alipay notification to make the oral subject paid")
    assert all(r["payment_status"] == "已支付" and not r["cancellable"] for r in page["written"]["rows"] + page["oral"]["rows"])
    assert page["reminder"] is None
    # paid subjects can never be cancelled (N8)
    refused = await user.delete(f"/api/enrolment/me/enrolments/{journey['written'][0]}")
    assert refused.status_code == 409, refused.text


async def test_y6_receipt_mails_for_both_payments(stack: Stack, journey: dict) -> None:
    user: User = journey["user"]
    receipts = await stack.mailbox.wait(user.email, "缴费成功", count=2, timeout=40)
    bodies = "\n".join(Mailbox.body(m) for m in receipts)
    assert "首信易支付" in bodies and "支付宝" in bodies
    assert "0.02元" in bodies and "0.01元" in bodies
