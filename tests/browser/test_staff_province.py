"""Issue 15, points 1 and 6: a province administrator, made by operations in the console, logs in
with TOTP, publishes their province's notice (省通告) with a publish time, and manages the teachers
of their province's schools and nothing else; visitors read the notice on the home page."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

from playwright.async_api import expect
from staff_steps import console_log_in, set_first_password

ADMIN_PASSWORD = "Province-Totp-2026!"
SHANGHAI = timezone(timedelta(hours=8))


async def test_a_province_administrator_publishes_their_notice_and_manages_only_their_teachers(visit, stack) -> None:
    tag = uuid.uuid4().hex[:6]
    admin_email = f"admin{tag}.p99@example.com"
    ops = await visit("ops")
    await console_log_in(ops, "ops@cet.test")
    op = ops.page
    await op.get_by_role("tab", name="员工账号管理").click()
    await op.get_by_label("邮箱").fill(admin_email)
    await op.get_by_label("角色").select_option(label="省级管理员")
    await expect(op.get_by_label("学校代码（5位）")).to_be_hidden()
    await op.get_by_label("省份代码（2位）").fill("99")
    await op.get_by_role("button", name="创建账号").click()
    # Creating hashes a throw-away password (argon2) and queues the mail: slow on a loaded machine.
    await expect(op.locator("#staff-table tr", has_text=admin_email)).to_contain_text("省份99", timeout=30_000)
    await ops.shot("province-admin-created")

    admin = await visit("province-admin")
    page = admin.page
    await set_first_password(admin, stack, admin_email, ADMIN_PASSWORD)
    await console_log_in(admin, admin_email, ADMIN_PASSWORD)
    await expect(page.locator("#who")).to_contain_text("省级管理员 · 省份99")
    await expect(page.get_by_role("tab")).to_have_text(["员工账号管理", "省通告", "操作审计"])  # 操作审计: their province's rows only

    # 省通告: only their province's kind, the province fixed; published an hour ago.
    await page.get_by_role("tab", name="省通告").click()
    await expect(page.get_by_label("栏目").locator("option")).to_have_text(["省通告"])
    await expect(page.get_by_label("省份代码（2位）")).to_have_value("99")
    title = f"(99)测试省考生须知{tag}"
    await page.get_by_label("标题").fill(title)
    await page.get_by_label("正文").fill("一、遵守时间\n二、遵守记录")
    await page.get_by_label("发布时间（北京时间）").fill((datetime.now(SHANGHAI) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#news-table tr", has_text=title)).to_contain_text("已发布", timeout=15_000)
    await admin.shot("province-notice-published")

    # Teachers of their province only: another province's school is refused where they type.
    await page.get_by_role("tab", name="员工账号管理").click()
    await expect(page.get_by_label("角色").locator("option")).to_have_text(["学校负责老师"])
    await page.get_by_label("邮箱").fill(f"t{tag}.11001@example.com")
    await page.get_by_label("学校代码（5位）").fill("11001")
    admin.expect_failure("/api/passport/staff/accounts", 403)
    await page.get_by_role("button", name="创建账号").click()
    await expect(page.locator("#staff-form").get_by_role("alert")).to_have_text("无权管理该范围的账号", timeout=15_000)
    await page.get_by_label("学校代码（5位）").fill("99103")
    await page.get_by_label("邮箱").fill(f"t{tag}.99103@example.com")
    await page.get_by_role("button", name="创建账号").click()
    listed = page.locator("#staff-table tbody tr")
    await expect(page.locator("#staff-table")).to_contain_text(f"t{tag}.99103@example.com", timeout=30_000)
    scopes = await listed.locator("td:nth-child(3)").all_inner_texts()
    assert scopes and all(re.fullmatch(r"学校99\d{3}", s) for s in scopes), scopes  # no support, ops or other provinces
    await expect(page.locator("#staff-table")).not_to_contain_text("ops@cet.test")
    await admin.shot("province-teachers")

    visitor = await visit("visitor")
    await visitor.page.goto("/")
    await expect(visitor.page.locator("#province-notices")).to_contain_text(title)
    await expect(visitor.page.locator("#province-notices")).to_contain_text("二、遵守记录")
    await visitor.shot("home-province-notice")
