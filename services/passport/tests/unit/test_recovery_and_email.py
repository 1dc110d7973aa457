"""P4 recovery, P5/P6 email verification and change — the use cases alone on the in-memory unit of work."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from support import CHEAP, GOOD_PASSWORD

from cet_shared.problems import Problem
from passport.domain.accounts import Account
from passport.service.email_verification import request_email_change, resend_verification, verify_email
from passport.service.recovery import PasswordReset, request_password_reset, reset_password

PID = "7DCE2A03B4B74FC9A55F6CA86F73A903"
NEW_PASSWORD = "Brand-new-2024"


@pytest.fixture(autouse=True)
def account(uow) -> Account:
    account = Account(passport_id=PID, email="liaoxiaoer@example.com", password_hash=PasswordHasher(**CHEAP).hash(GOOD_PASSWORD))
    uow.committed.accounts[PID] = account
    return account


async def ask_reset(uow, clock, links, settings, email="LIAOXIAOER@example.com") -> None:
    token, answer = uow.captcha()
    await request_password_reset(uow, email, captcha_token=token, captcha_answer=answer, client="203.0.113.7", clock=clock, links=links, settings=settings)


def token_in(body: str, path: str) -> str:
    return re.search(re.escape(path) + r"\?token=([\w-]+)", body).group(1)


async def test_p4_the_mail_has_two_links_to_one_token_built_on_each_base_url(uow, clock, links, settings):
    await ask_reset(uow, clock, links, settings)
    await ask_reset(uow, clock, links, settings, email="nobody@example.com")
    [mail] = uow.committed.mail
    assert mail.to == "liaoxiaoer@example.com" and mail.subject == "CET报名网 密码找回"
    campus = re.search(r"校园网用户：(\S+)", mail.body).group(1)
    public = re.search(r"公网用户：(\S+)", mail.body).group(1)
    assert campus.startswith("http://campus.cet.test/password/reset?token=")
    assert public.startswith("https://cet.test/portal/password/reset?token="), "the base URL's own path is kept"
    assert token_in(campus, "/password/reset") == token_in(public, "/password/reset")
    assert "120分钟内有效" in mail.body


async def test_p4_reset_spends_the_link_changes_the_password_and_ends_sessions(uow, clock, links, settings, passwords):
    await ask_reset(uow, clock, links, settings)
    token = token_in(uow.committed.mail[0].body, "/password/reset")
    reset = PasswordReset(token=token, email="liaoxiaoer@example.com", password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    await reset_password(uow, reset, passwords=passwords, clock=clock, settings=settings)
    account = uow.committed.accounts[PID]
    assert account.token_version == 1 and await passwords.verify(account.password_hash, NEW_PASSWORD)
    [revocation] = uow.committed.revocations
    assert revocation.reason == "password_reset" and revocation.token_version_below == 1
    with pytest.raises(Problem) as again:
        await reset_password(uow, reset, passwords=passwords, clock=clock, settings=settings)
    assert again.value.code == "link_invalid"


async def test_p4_a_wrong_email_leaves_the_link_usable_and_a_late_one_is_refused(uow, clock, links, settings, passwords):
    await ask_reset(uow, clock, links, settings)
    token = token_in(uow.committed.mail[0].body, "/password/reset")
    with pytest.raises(Problem) as mismatch:
        await reset_password(uow, PasswordReset(token, "other@example.com", NEW_PASSWORD, NEW_PASSWORD), passwords=passwords, clock=clock, settings=settings)
    assert mismatch.value.code == "reset_email_mismatch"
    assert uow.committed.accounts[PID].token_version == 0
    clock.advance(settings.reset_link_lifetime + timedelta(seconds=1))
    with pytest.raises(Problem) as late:
        await reset_password(
            uow, PasswordReset(token, "liaoxiaoer@example.com", NEW_PASSWORD, NEW_PASSWORD), passwords=passwords, clock=clock, settings=settings
        )
    assert late.value.code == "link_invalid", "not spent by the mismatch: refused only for its age"


async def test_p4_recovery_is_limited_per_account(uow, clock, links, settings):
    for _ in range(settings.recovery_requests_per_account):
        await ask_reset(uow, clock, links, settings)
    with pytest.raises(Problem) as limited:
        await ask_reset(uow, clock, links, settings, email="liaoxiaoer@EXAMPLE.com")
    assert limited.value.status == 429


async def test_p5_resend_and_verify_marks_the_address_verified_once(uow, clock, links, settings):
    await resend_verification(uow, PID, clock=clock, links=links, settings=settings)
    token = token_in(uow.committed.mail[-1].body, "/email/verify")
    await verify_email(uow, token, clock=clock)
    assert uow.committed.accounts[PID].email_verified_at == clock.now()
    with pytest.raises(Problem) as verified:
        await resend_verification(uow, PID, clock=clock, links=links, settings=settings)
    assert verified.value.code == "email_already_verified"
    with pytest.raises(Problem) as spent:
        await verify_email(uow, token, clock=clock)
    assert spent.value.code == "link_invalid"


async def test_p6_a_new_email_counts_only_after_its_link_and_is_announced(uow, clock, links, settings):
    token, answer = uow.captcha()
    await request_email_change(uow, PID, "right@example.com", captcha_token=token, captcha_answer=answer, clock=clock, links=links, settings=settings)
    assert uow.committed.accounts[PID].email == "liaoxiaoer@example.com"
    [mail] = uow.committed.mail
    await verify_email(uow, token_in(mail.body, "/email/verify"), clock=clock)
    assert uow.committed.accounts[PID].email == "right@example.com"
    [(event, key)] = uow.committed.events
    assert event.event_type == "AccountEmailChanged" and key == PID and event.old_email == "liaoxiaoer@example.com"


async def test_p6_another_accounts_address_gets_a_notice_and_no_link(uow, clock, links, settings):
    uow.committed.accounts["B" * 32] = Account(passport_id="B" * 32, email="taken@example.com", password_hash="x")
    token, answer = uow.captcha()
    await request_email_change(uow, PID, "TAKEN@example.com", captcha_token=token, captcha_answer=answer, clock=clock, links=links, settings=settings)
    [mail] = uow.committed.mail
    assert mail.subject == "CET报名网 邮箱修改提醒" and "token=" not in mail.body and uow.committed.links == {}
