"""The candidate's whole journey in the browser, as the guide walks it: register with a captcha,
log in, start, agreement, qualification query, confirmation, save; notices, written subject,
oral campus, the registration info page, and paying with the payment sandbox (P1, P2, E2–E8,
N3–N12, Y1, Y2, Y3)."""

from __future__ import annotations

import re
import uuid

try:
    from playwright.async_api import expect
except ImportError:  # not installed: the `browser` fixture fails every test here and says how to install it
    expect = None

PASSWORD = "Cet-Journey-2026"


async def register_and_log_in(v, email: str) -> None:
    page = v.page
    answer = await v.known_captcha()
    await page.goto("/")
    await v.shot("home")
    await page.get_by_role("link", name=re.compile("注册新用户")).click()
    await expect(page.get_by_role("heading", name="注册通行证账号")).to_be_visible()
    await page.get_by_label("电子邮箱").fill(email)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_label("确认密码").fill(PASSWORD)
    await page.get_by_label("验证码").fill(answer)
    await v.shot("register")
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("main").get_by_role("status")).to_contain_text("注册成功")
    await v.shot("registered")
    await page.get_by_role("link", name="登录", exact=True).last.click()
    await expect(page.get_by_role("heading", name=re.compile("考生登录"))).to_be_visible()
    await page.get_by_label("账号").fill(email)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_label("验证码").fill(answer)
    await v.shot("login")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="欢迎登录CET考试报名系统")).to_be_visible()


async def query_and_confirm(v, id_type: str, id_number: str, name: str) -> None:
    page = v.page
    await page.get_by_role("button", name="开始报名").click()
    await expect(page.get_by_role("heading", name="报名协议")).to_be_visible()
    await v.shot("agreement")
    v.expect_failure("/api/eligibility/agreement", 422)
    await page.get_by_role("button", name="同意", exact=True).click()
    # Not ticked: the service's Chinese refusal shows in the form.
    await expect(page.get_by_role("alert")).to_contain_text("请勾选")
    await page.get_by_label(re.compile("我已阅读并接受遵守本网站报名协议")).check()
    await page.get_by_role("button", name="同意", exact=True).click()
    await expect(page.get_by_role("heading", name="资格信息查询")).to_be_visible()
    options = await page.get_by_label("证件类型").locator("option").all_inner_texts()
    assert options == ["- 请选择 -", "中华人民共和国居民身份证", "台湾居民往来大陆通行证", "港澳居民来往内地通行证", "护照", "香港身份证", "澳门身份证"]
    await page.get_by_label("证件类型").select_option(label=id_type)
    await page.get_by_label("证件号码").fill(id_number)
    await page.get_by_label("姓名").fill(name)
    await v.shot("query")
    await page.get_by_role("button", name="查 询").click()
    await expect(page.get_by_role("heading", name="资格信息确认")).to_be_visible()


async def test_candidate_journey_from_registration_to_paid_with_the_sandbox(visit, stack) -> None:
    v = await visit()
    page = v.page
    email = f"liao.{uuid.uuid4().hex[:8]}@example.com"
    await register_and_log_in(v, email)
    # E8: 姓名: 未设置 until the registration is bound.
    await expect(page.locator("#header-name")).to_have_text("未设置")
    await expect(page.locator("#session-name")).to_contain_text("2026年下半年CET考试")
    await expect(page.locator("#registration-status")).to_have_text("未报名或当前通行证账号非报名时账号")
    await v.shot("start")

    await query_and_confirm(v, "中华人民共和国居民身份证", "330101199001010024", "廖晓儿")
    await expect(page.locator("#person")).to_contain_text("廖晓儿")
    await expect(page.locator("#qualification")).to_have_text("英语四级笔试; 英语四级口试")
    await expect(page.locator("table.record")).to_contain_text("(99101)测试学校")
    await expect(page.locator("table.record")).to_contain_text("高分子化学与物理")
    save = page.locator("#save-button")
    await expect(save).to_be_disabled()
    await expect(save).to_have_text("请勾选确认")
    await v.shot("confirm")
    await page.get_by_label("我已检查并确认学籍与资格信息正确").check()
    await expect(save).to_have_text("保存并继续")
    await save.click()

    # N3: the notices first, then written subjects.
    await expect(page.get_by_role("heading", name="省通告")).to_be_visible()
    await expect(page.locator("#header-name")).to_have_text("廖晓儿")
    await expect(page.locator("main")).to_contain_text("尊敬老师、友爱同学")
    await v.shot("notices")
    await page.get_by_role("button", name="我已阅读，继续报名").click()
    await expect(page.get_by_role("heading", name="笔试报考")).to_be_visible()
    await page.get_by_label("(1) 英语四级笔试").check()
    await v.shot("written")
    await page.get_by_role("button", name="提交").click()

    # N12: the registration info page with the unpaid reminder.
    await expect(page.get_by_role("heading", name="报名信息", exact=True)).to_be_visible()
    await expect(page.locator("#reminder")).to_have_text("存在未支付笔试科目，请通过“支付缴费”进行支付。")
    await expect(page.locator("#written-table")).to_contain_text("(1) 英语四级笔试")
    await expect(page.locator("[data-summary=written]")).to_have_text("全未支付")
    await expect(page.locator("[data-unpaid=written]")).to_have_text("¥0.01")
    await expect(page.locator("main")).to_contain_text("当前没有报考口试科目，可通过“口试报考”进行科目报考！")
    await v.shot("registration-written")

    # N10/N11: the oral campus chooser with the capacity colour.
    await page.get_by_role("link", name="口试报考").click()
    await expect(page.get_by_role("heading", name="口试科目报考", exact=True)).to_be_visible()
    row = page.locator("#campuses-F tbody tr").first
    await expect(row).to_contain_text("(991010)99101-0校区")
    await expect(row.locator("[data-colour]")).to_have_attribute("data-colour", "green")
    await expect(row.locator("[data-colour]")).to_have_text("30")
    await expect(page.locator("#oral-S-message")).to_have_text("不具有CET六级口试报考资格！")
    await v.shot("oral")
    await row.get_by_role("radio").check()
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#oral-table")).to_contain_text("(F) 英语四级口试")
    await v.shot("registration-both")

    # Y1/Y2: 支付 → 去支付 → 确定 → 首信易支付 中国银行 → 温馨提示 → the sandbox's page.
    await page.locator("[data-pay=written]").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("(1) 英语四级笔试")
    await v.shot("pay-confirm-1")
    await dialog.get_by_role("button", name="去支付").click()
    await expect(page.get_by_role("dialog")).to_contain_text("再次确认")
    await v.shot("pay-confirm-2")
    await page.get_by_role("dialog").get_by_role("button", name="确定").click()
    await expect(page.get_by_role("heading", name="选择支付方式")).to_be_visible()
    await page.get_by_label("首信易支付").check()
    await page.get_by_label("支付银行").select_option(label="中国银行")
    await v.shot("gateway-choice")
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator("#checkout-confirmation")).to_have_text(re.compile(r"您选择首信易支付 中国银行进行支付, 支付金额为0\.01元人民币"))
    await v.shot("gateway-confirm")
    await page.get_by_role("dialog").get_by_role("button", name="确定").click()
    await expect(page.get_by_role("button", name="确认付款")).to_be_visible()
    await v.shot("sandbox-payease")
    await page.get_by_role("button", name="确认付款").click()
    await page.get_by_role("link", name="返回商户").click()

    # Y3: the notification settles the order; the written table shows 已支付.
    await expect(page.get_by_role("heading", name="报名信息", exact=True)).to_be_visible()
    for _ in range(40):
        if await page.locator("[data-summary=written]").inner_text() == "全部支付":
            break
        await page.wait_for_timeout(500)
        await page.reload()
        await expect(page.get_by_role("heading", name="报名信息", exact=True)).to_be_visible()
    await expect(page.locator("[data-summary=written]")).to_have_text("全部支付")
    await expect(page.locator("#written-table")).to_contain_text("已支付")
    await expect(page.locator("#reminder")).to_have_count(0)
    await v.shot("registration-written-paid")

    # The oral table with Alipay.
    await page.locator("[data-pay=oral]").click()
    await page.get_by_role("dialog").get_by_role("button", name="去支付").click()
    await page.get_by_role("dialog").get_by_role("button", name="确定").click()
    await page.get_by_label("支付宝").check()
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator("#checkout-confirmation")).to_contain_text("支付宝")
    await page.get_by_role("dialog").get_by_role("button", name="确定").click()
    await page.get_by_role("button", name="确认付款").click()
    await v.shot("sandbox-alipay-paid")
    await page.get_by_role("link", name="返回商户").click()
    for _ in range(40):
        if await page.locator("[data-summary=oral]").count() and await page.locator("[data-summary=oral]").inner_text() == "全部支付":
            break
        await page.wait_for_timeout(500)
        await page.reload()
        await expect(page.get_by_role("heading", name="报名信息", exact=True)).to_be_visible()
    await expect(page.locator("[data-summary=oral]")).to_have_text("全部支付")
    await expect(page.locator("#flow")).to_contain_text("完成报名")
    await v.shot("registration-all-paid")
