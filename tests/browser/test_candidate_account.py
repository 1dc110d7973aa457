"""The passport pages in the browser, with the links from the mails: verify the email (P5), the
account page's 修改资料 and 修改密码 (P5, P7), and 找回密码 with the reset-link page (P4)."""

from __future__ import annotations

import re
import uuid

try:
    from playwright.async_api import expect
except ImportError:  # not installed: the `browser` fixture fails every test here and says how to install it
    expect = None


def link_in(text: str, path: str) -> str:
    found = re.findall(r"https?://\S+" + re.escape(path) + r"\?token=[\w\-]+", text)
    assert found, f"no {path} link in the mail:\n{text}"
    return found[-1]  # the public-network link (both carry the same token)


async def test_p4_p5_p7_mail_links_account_page_and_password_recovery(visit, stack) -> None:
    v = await visit()
    page = v.page
    email = f"acct.{uuid.uuid4().hex[:8]}@example.com"
    answer = await v.known_captcha()
    await page.goto("/register")
    await page.get_by_label("电子邮箱").fill(email)
    await page.get_by_label("密码", exact=True).fill("Cet-Account-2026")
    await page.get_by_label("确认密码").fill("Cet-Account-2026")
    await page.get_by_label("姓名").fill("廖晓儿")
    await page.get_by_label("验证码").fill(answer)
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("main").get_by_role("status")).to_contain_text("注册成功")

    # P5 验证邮箱: the link in the mail opens the portal's page, which verifies at once.
    await page.goto(link_in(stack.mail_to(email, "邮箱验证"), "/email/verify"))
    await expect(page.locator("#verify-result")).to_have_text("邮箱验证成功")
    await v.shot("email-verified")

    await page.goto("/login")
    await page.get_by_label("账号").fill(email)
    await page.get_by_label("密码").fill("Cet-Account-2026")
    await page.get_by_label("验证码").fill(answer)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", name="欢迎登录CET考试报名系统")).to_be_visible()
    await page.get_by_role("link", name="通行证账号信息").click()
    info = page.locator("#account-info")
    await expect(info).to_contain_text(email)
    await expect(info).to_contain_text("（已验证）")
    await expect(info).to_contain_text("廖晓儿")
    await expect(page.locator("#passport-id")).to_have_text(re.compile(r"^[0-9A-F]{32}$"))
    await v.shot("account-page")

    # 修改资料: phone and name.
    await page.get_by_role("link", name="修改资料").click()
    await page.locator("#profile").get_by_label("手机").fill("13800000000")
    await page.locator("#profile").get_by_role("button", name="保存资料").click()
    await expect(info).to_contain_text("13800000000")
    await v.shot("profile-changed")

    # 修改密码 with a wrong old password: refused in Chinese, in the form.
    await page.get_by_role("link", name="修改密码").click()
    form = page.locator("#password-change")
    v.expect_failure("/api/passport/me/password", 400)
    await form.get_by_label("原密码").fill("wrong-old-password")
    await form.get_by_label("新密码", exact=True).fill("Cet-Account-2027")
    await form.get_by_label("确认新密码").fill("Cet-Account-2027")
    await form.get_by_role("button", name="提交").click()
    await expect(form.get_by_role("alert")).to_have_text("原密码错误")
    await v.shot("password-change-refused")

    # P4 找回密码 → the mail's link → the reset page → log in with the new password.
    await page.get_by_role("button", name="退出").click()
    await expect(page.locator("#who").get_by_role("link", name="登录")).to_be_visible()  # logged out: DELETE /sessions answered
    await page.goto("/login")
    await page.get_by_role("link", name="找回密码").click()
    await expect(page.get_by_role("heading", name="找回密码")).to_be_visible()
    await page.get_by_label("邮箱").fill(email)
    await page.get_by_label("验证码").fill(answer)
    await page.get_by_role("button", name="找回密码").click()
    await expect(page.locator("main").get_by_role("status")).to_contain_text("邮件")
    await v.shot("recovery-sent")
    await page.goto(link_in(stack.mail_to(email, "密码找回"), "/password/reset"))
    await expect(page.get_by_role("heading", name="重置密码")).to_be_visible()
    await page.get_by_label("邮箱").fill(email)
    await page.get_by_label("新密码").fill("Cet-Recovered-2026")
    await page.get_by_label("确认密码").fill("Cet-Recovered-2026")
    await v.shot("reset-page")
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("main").get_by_role("status")).to_have_text("修改密码成功")
    await v.shot("reset-done")
    await page.get_by_role("link", name="重新登录").click()
    await page.get_by_label("账号").fill(email)
    await page.get_by_label("密码").fill("Cet-Recovered-2026")
    await page.get_by_label("验证码").fill(answer)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", name="欢迎登录CET考试报名系统")).to_be_visible()
