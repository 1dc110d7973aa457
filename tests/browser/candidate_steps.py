"""The steps most browser tests walk before the part they are about, through the portal's own
pages: register, log in, agree, query and save the qualification, read the notices, enrol in
written subjects; and paying a table with the sandbox's Alipay."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import expect


async def agree(page) -> None:
    """From the home page of a logged-in candidate: 开始报名, the agreement ticked and accepted."""
    await page.get_by_role("button", name="开始报名").click()
    await page.get_by_label(re.compile("我已阅读并接受遵守本网站报名协议")).check()
    await page.get_by_role("button", name="同意", exact=True).click()


async def query_qualification(page, *, id_type: str, id_number: str, name: str) -> None:
    """The qualification query filled in and sent (查 询)."""
    await page.get_by_label("证件类型").select_option(label=id_type)
    await page.get_by_label("证件号码").fill(id_number)
    await page.get_by_label("姓名").fill(name)
    await page.get_by_role("button", name="查 询").click()


async def bound_with_written(
    v, *, id_number: str, name: str, written: tuple[str, ...] = ("(1) 英语四级笔试",), id_type: str = "中华人民共和国居民身份证"
) -> str:
    """A new account for the registry's candidate, with written subjects enrolled; ends on 报名信息."""
    page = v.page
    email = f"c.{uuid.uuid4().hex[:10]}@example.com"
    password = "Cet-Steps-2026"
    await v.register(email, password)
    await v.log_in(email, password)
    await agree(page)
    await query_qualification(page, id_type=id_type, id_number=id_number, name=name)
    await page.get_by_label("我已检查并确认学籍与资格信息正确").check()
    await page.locator("#save-button").click()
    await page.get_by_role("button", name="我已阅读，继续报名").click()
    for subject in written:
        await page.get_by_label(subject).check()
    await page.get_by_role("button", name="提交").click()
    await expect(page.get_by_role("heading", name="报名信息", exact=True)).to_be_visible()
    await expect(page.locator("#written-table")).to_contain_text(written[0])
    return email


async def pay_with_alipay(v, kind: str) -> None:
    """支付 → 去支付 → 确定 → 支付宝 → 温馨提示 → the sandbox's 确认付款 → back, until the table reads 全部支付."""
    page = v.page
    await page.locator(f"[data-pay={kind}]").click()
    await page.get_by_role("dialog").get_by_role("button", name="去支付").click()
    await page.get_by_role("dialog").get_by_role("button", name="确定").click()
    await page.get_by_label("支付宝").check()
    await page.get_by_role("button", name="确定").click()
    await page.get_by_role("dialog").get_by_role("button", name="确定").click()
    await page.get_by_role("button", name="确认付款").click()
    await page.get_by_role("link", name="返回商户").click()
    summary = page.locator(f"[data-summary={kind}]")
    for _ in range(40):
        await expect(page.get_by_role("heading", name="报名信息", exact=True)).to_be_visible()
        if await summary.count() and await summary.inner_text() == "全部支付":
            break
        await page.wait_for_timeout(500)  # the notification travels sandbox → payment → Kafka → enrolment
        await page.reload()
    await expect(summary).to_have_text("全部支付")
