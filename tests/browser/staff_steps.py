"""Staff log in to the console (/console/) with their password and a TOTP code (issue 15).

The first log-in of an account enrols: the test reads the key the console shows under the QR
code, as a person would type it into an authenticator app, computes codes from it with pyotp,
and keeps the recovery codes the console shows once. A code works once, so a second log-in in
the same 30-second step signs in with a recovery code, as a person whose phone is away would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp
from playwright.async_api import expect

STAFF_PASSWORD = "Staff-Pa55word!"


@dataclass
class Authenticator:
    secret: str
    recovery_codes: list[str] = field(default_factory=list)
    used_steps: set[int] = field(default_factory=set)


async def set_first_password(v, stack, email: str, password: str) -> None:
    """A new staff account's password, set from the link passport mailed it (设置密码)."""
    page = v.page
    mail = stack.mail_to(email, "设置密码")
    links = re.findall(r"https?://\S+/password/reset\?token=[\w\-]+", mail)
    assert links, f"no /password/reset link in the mail:\n{mail}"
    await page.goto(links[-1])
    await page.get_by_label("邮箱").fill(email)
    await page.get_by_label("新密码").fill(password)
    await page.get_by_label("确认密码").fill(password)
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("main").get_by_role("status")).to_have_text("修改密码成功", timeout=15_000)


# One per staff email for the whole browser run (the stack lives for the package).
AUTHENTICATORS: dict[str, Authenticator] = {}


async def console_log_in(v, email: str, password: str = STAFF_PASSWORD) -> Authenticator:
    page = v.page
    answer = await v.known_captcha()
    await page.goto("/console/")
    await expect(page.get_by_role("heading", name="管理人员登录")).to_be_visible()
    await page.get_by_label("账号").fill(email)
    await page.get_by_label("密码").fill(password)
    await page.get_by_label("验证码").fill(answer)
    await v.shot("console-login")
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#second-factor")).to_be_visible(timeout=15_000)  # argon2 checks the password

    if await page.get_by_role("heading", name="绑定动态验证码").count():
        await expect(page.locator("#totp-qr")).to_be_visible()
        secret = (await page.locator("#totp-secret").inner_text()).strip()
        assert (await page.locator("#totp-uri").get_attribute("href") or "").startswith("otpauth://totp/")
        await v.shot("totp-enrol")
        AUTHENTICATORS[email] = Authenticator(secret)
        await page.get_by_label("6位动态验证码").fill(_fresh_code(AUTHENTICATORS[email]))
        await page.get_by_role("button", name="验证并登录").click()
        codes = page.locator("#recovery-codes li")
        await expect(codes).to_have_count(10, timeout=15_000)
        AUTHENTICATORS[email].recovery_codes = [c.strip() for c in await codes.all_inner_texts()]
        await v.shot("totp-recovery-codes")
        await page.get_by_role("button", name="我已保存恢复码，进入管理平台").click()
    else:
        authenticator = AUTHENTICATORS[email]
        code = _fresh_code(authenticator)
        if code:
            await page.get_by_label("动态验证码", exact=True).fill(code)
        else:
            await page.get_by_label("恢复码（手机丢失时）").fill(authenticator.recovery_codes.pop())
        await v.shot("totp-code")
        await page.get_by_role("button", name="验证并登录").click()
    await expect(page.get_by_role("tablist")).to_be_visible(timeout=15_000)
    return AUTHENTICATORS[email]


def _fresh_code(authenticator: Authenticator) -> str | None:
    """The code of the current step, or None when this step's code was already spent."""
    totp = pyotp.TOTP(authenticator.secret)
    step = totp.timecode(datetime.now(UTC))
    if step in authenticator.used_steps:
        return None
    authenticator.used_steps.add(step)
    return totp.generate_otp(step)
