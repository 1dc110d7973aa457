"""The error paths a candidate most often meets, each shown in Chinese where the candidate is
looking: a wrong captcha (P3), a campus that fills up while the page is open (N11), the unpaid
reminder (N12), a dead reset link (P4), and account recovery on a phone (E11)."""

from __future__ import annotations

import re
import uuid

try:
    from candidate_steps import agree, query_qualification
    from playwright.async_api import expect
except ImportError:  # not installed: the `browser` fixture fails every test here and says how to install it
    expect = agree = query_qualification = None


async def test_p3_wrong_captcha_is_refused_in_chinese_and_a_new_image_is_drawn(visit, stack) -> None:
    v = await visit()
    page = v.page
    email = f"captcha.{uuid.uuid4().hex[:8]}@example.com"
    await v.register(email, "Cet-Captcha-2026")
    await page.unroute("**/api/passport/captcha")  # from here on, the real captcha of passport

    await page.goto("/login")
    image = page.get_by_role("button", name="验证码图片，点击换一张")
    await expect(image).to_have_attribute("src", re.compile("^data:image/png;base64,"))
    first = await page.locator("#login input[name=captcha_token]").input_value()
    await page.get_by_label("账号").fill(email)
    await page.get_by_label("密码").fill("Cet-Captcha-2026")
    await page.get_by_label("验证码").fill("0000")  # 0 is not in the captcha alphabet: always wrong
    v.expect_failure("/api/passport/sessions", 400)
    v.expect_failure("/api/passport/sessions", 401)
    await page.get_by_role("button", name="登录", exact=True).click()
    alert = page.locator("#login").get_by_role("alert")
    await expect(alert).to_have_text("验证码错误或已过期，请重新输入")
    await expect(alert).to_be_focused()
    # Each captcha works once: the form shows a fresh one and an empty answer field.
    await expect(page.locator("#login input[name=captcha_token]")).not_to_have_value(first)
    await expect(page.get_by_label("验证码")).to_have_value("")
    await expect(page).to_have_url(re.compile("/login$"))
    await v.shot("wrong-captcha")

    # A wrong password says nothing about whether the account exists (P2), in Chinese too.
    answer = await v.known_captcha()
    token = page.locator("#login input[name=captcha_token]")
    before = await token.input_value()
    await image.click()  # a new image, now one whose answer the test knows
    await expect(token).not_to_have_value(before)
    await page.get_by_label("密码").fill("not-the-password")
    await page.get_by_label("验证码").fill(answer)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(alert).to_contain_text(re.compile("账号或密码"))
    await v.shot("wrong-password")


async def test_p4_dead_reset_link_says_so_in_chinese(visit) -> None:
    v = await visit()
    page = v.page
    v.expect_failure("/api/passport/password/reset", 400)
    await page.goto("/password/reset?token=" + "x" * 40)
    await expect(page.get_by_role("heading", name="重置密码")).to_be_visible()
    await page.get_by_label("邮箱").fill("nobody@example.com")
    await page.get_by_label("新密码").fill("Cet-New-Password-1")
    await page.get_by_label("确认密码").fill("Cet-New-Password-1")
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#reset").get_by_role("alert")).to_contain_text(re.compile("链接|失效|过期|无效"))
    await v.shot("dead-reset-link")


async def test_n11_campus_filled_while_choosing_shows_full_and_red_none(visit, stack) -> None:
    """The campus has one seat; someone else takes it between loading the chooser and 提交."""
    v = await visit()
    page = v.page
    email = f"wang.{uuid.uuid4().hex[:8]}@example.com"
    await v.register(email, "Cet-Full-2026")
    await v.log_in(email, "Cet-Full-2026")
    await agree(page)
    await query_qualification(page, id_type="中华人民共和国居民身份证", id_number="110101200103030047", name="王小明")
    await page.get_by_label("我已检查并确认学籍与资格信息正确").check()
    await page.locator("#save-button").click()
    await page.get_by_role("button", name="我已阅读，继续报名").click()
    await page.get_by_label("(1) 英语四级笔试").check()
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#written-table")).to_contain_text("(1) 英语四级笔试")

    await page.get_by_role("link", name="口试报考").click()
    row = page.locator("#campuses-F tbody tr").first
    await expect(row.locator("[data-colour]")).to_have_text("1")
    await row.get_by_role("radio").check()
    await v.shot("oral-one-seat-left")

    # 赵敏 of the same school takes the last seat through the API.
    _, other = stack.bind_candidate("resident_id_card", "11010120020404005X", "赵敏")
    assert stack.api("POST", "/enrolment/me/notices/acknowledgement", token=other).status_code == 200
    assert stack.api("POST", "/enrolment/me/written", token=other, json={"subject_codes": ["1"]}).status_code == 201
    campuses = stack.api("GET", "/enrolment/me/oral/F/campuses", token=other).json()
    taken = stack.api("POST", "/enrolment/me/oral", token=other, json={"offering_id": campuses["campuses"][0]["offering_id"]})
    assert taken.status_code == 201, taken.text

    v.expect_failure("/api/enrolment/me/oral", 409)
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#oral").get_by_role("alert")).to_have_text("该校区考位已报满，请选择其他校区")
    await v.shot("oral-full-refused")
    # Issue 14.6: the seats_full answer redraws the chooser at once, without a reload.
    row = page.locator("#campuses-F tbody tr").first
    await expect(row.locator("[data-colour]")).to_have_text("无")
    await expect(row.locator("[data-colour]")).to_have_attribute("data-colour", "red")
    await expect(row.locator("[data-colour]")).to_have_class("cap-red")
    await expect(row.get_by_role("radio")).to_be_disabled()
    await v.shot("oral-red-none")
    await page.get_by_role("link", name="返回").click()
    await expect(page.locator("main")).to_contain_text("当前没有报考口试科目")


async def test_n12_unpaid_reminder_and_e11_account_recovery_on_a_phone(visit, stack) -> None:
    v = await visit(mobile=True)
    page = v.page
    email = f"sun.{uuid.uuid4().hex[:8]}@example.com"
    await v.register(email, "Cet-Phone-2026")
    await v.log_in(email, "Cet-Phone-2026")
    await v.shot("start")
    await agree(page)
    await query_qualification(page, id_type="中华人民共和国居民身份证", id_number="110101200305050062", name="孙悦")
    await expect(page.get_by_role("heading", name="资格信息确认")).to_be_visible()
    await v.shot("confirm")
    await page.get_by_label("我已检查并确认学籍与资格信息正确").check()
    await page.locator("#save-button").click()
    await page.get_by_role("button", name="我已阅读，继续报名").click()
    await page.get_by_label("(1) 英语四级笔试").check()
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#reminder")).to_have_text("存在未支付笔试科目，请通过“支付缴费”进行支付。")
    await expect(page.locator("#written-table")).to_contain_text("未支付")
    await expect(page.locator("#written-table")).to_contain_text(re.compile("请于.+前支付"))
    await v.shot("unpaid-reminder")
    # Nothing on the page is wider than the phone's screen, and the subject table is a card: no scrolling.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert await page.locator("#written-table").evaluate("(t) => t.closest('.table-wrap').scrollWidth <= t.closest('.table-wrap').clientWidth + 1")

    # N8: an unpaid subject can be cancelled; the reminder goes with it.
    await page.get_by_role("button", name="取消报考").click()
    await expect(page.get_by_role("dialog")).to_contain_text("确定取消该科目的报考吗？")
    await v.shot("cancel-confirm")
    await page.get_by_role("dialog").get_by_role("button", name="确定").click()
    await expect(page.locator("main")).to_contain_text("当前没有报考笔试科目")
    await expect(page.locator("#reminder")).to_have_count(0)
    await v.shot("cancelled")

    # E11, logged out: 找回已报名账号 gives the account, its email partly masked.
    await page.get_by_role("button", name="退出").click()
    answer = await v.known_captcha()
    await page.get_by_role("link", name=re.compile("找回已报名账号")).click()
    await expect(page.get_by_role("heading", name="最近考次报名账号找回")).to_be_visible()
    await page.get_by_label("证件类型").select_option(label="中华人民共和国居民身份证")
    await page.get_by_label("证件号码").fill("110101200305050062")
    await page.get_by_label("姓名").fill("孙悦")
    await page.get_by_label("验证码").fill(answer)
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#recovered")).to_contain_text("找回成功")
    recovered = await page.locator("#recovered-email").inner_text()
    assert recovered != email and recovered.endswith("@example.com") and "*" in recovered
    await v.shot("account-recovered")
