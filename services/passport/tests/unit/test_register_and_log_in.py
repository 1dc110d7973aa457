"""P1 register and P2 log-in, the use cases alone on the in-memory unit of work."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from support import CHEAP, GOOD_PASSWORD, claims

from cet_shared.problems import Problem
from passport.domain.accounts import Account, Profile, hash_opaque_token
from passport.service.log_in import Credentials, log_in
from passport.service.passwords import Passwords
from passport.service.registration import Registration, create_staff, register


async def sign_up(uow, passwords, clock, links, settings, email="liaoxiaoer@example.com", password=GOOD_PASSWORD):
    token, answer = uow.captcha()
    registration = Registration(email, password, password, token, answer, Profile(name="廖晓儿"))
    return await register(uow, registration, passwords=passwords, clock=clock, links=links, settings=settings)


def credentials(uow, email="liaoxiaoer@example.com", password=GOOD_PASSWORD, client="203.0.113.7") -> Credentials:
    token, answer = uow.captcha()
    return Credentials(email=email, password=password, captcha_token=token, captcha_answer=answer, client=client)


@pytest.fixture
def deps(passwords, signer, clock, settings) -> dict:
    return {"passwords": passwords, "signer": signer, "clock": clock, "settings": settings}


async def test_p1_registration_stores_an_argon2id_hash_announces_the_account_and_mails_a_verification_link(uow, passwords, clock, links, settings):
    passport_id = await sign_up(uow, passwords, clock, links, settings)
    account = uow.committed.accounts[passport_id]
    assert account.password_hash.startswith("$argon2id$") and account.profile.name == "廖晓儿"
    [(event, key)] = uow.committed.events
    assert event.event_type == "AccountRegistered" and key == passport_id
    [mail] = uow.committed.mail
    assert mail.subject == "CET报名网 邮箱验证"
    assert "https://cet.test/portal/email/verify?token=" in mail.body and "http://campus.cet.test/email/verify?token=" in mail.body


async def test_p1_a_taken_email_changes_nothing_and_tells_its_owner(uow, passwords, clock, links, settings):
    await sign_up(uow, passwords, clock, links, settings, email="Li.Bo@Example.com")
    assert await sign_up(uow, passwords, clock, links, settings, email="li.bo@example.COM", password="Other-pass-99") is None
    assert len(uow.committed.accounts) == 1 and len(uow.committed.events) == 1
    assert uow.committed.mail[-1].subject == "CET报名网 通行证注册提醒" and uow.committed.mail[-1].to == "Li.Bo@Example.com"


async def test_p1_a_weak_password_is_refused_before_anything_is_kept(uow, passwords, clock, links, settings):
    with pytest.raises(Problem) as refused:
        await sign_up(uow, passwords, clock, links, settings, password="12345678")
    assert refused.value.code == "weak_password"
    assert uow.committed.accounts == {} and uow.commits == 0


async def test_p2_log_in_issues_an_access_token_and_a_refresh_token_stored_only_as_its_hash(uow, passwords, clock, links, settings, signer, deps):
    passport_id = await sign_up(uow, passwords, clock, links, settings)
    session = await log_in(uow, credentials(uow, email="LiaoXiaoer@example.com"), **deps)
    token = claims(signer, session.access_token, clock)
    assert token["sub"] == passport_id and token["roles"] == ["candidate"] and token["ver"] == 0
    [stored] = uow.committed.refresh_tokens.values()
    assert stored.token_hash == hash_opaque_token(session.refresh_token) and session.refresh_token not in repr(stored)
    assert stored.access_token_id == token["jti"], "a revoked session can name its access token"
    assert session.refresh_expires_in == int(settings.refresh_token_lifetime.total_seconds())


async def test_p2_wrong_password_and_unknown_email_are_one_refusal_and_both_are_counted(uow, passwords, clock, links, settings, deps):
    await sign_up(uow, passwords, clock, links, settings)
    refusals = []
    for attempt in (credentials(uow, password="Wrong-pass-1"), credentials(uow, email="nobody@example.com")):
        with pytest.raises(Problem) as refused:
            await log_in(uow, attempt, **deps)
        refusals.append((refused.value.status, refused.value.code, refused.value.title))
    assert refusals == [(401, "invalid_credentials", "账号或密码错误")] * 2
    assert sum(uow.committed.hits.values()) == 4, "per account and per client, committed despite the refusal"
    assert uow.committed.refresh_tokens == {}


async def test_p2_failures_are_throttled_per_account_even_for_the_right_password(uow, passwords, clock, links, settings, deps):
    await sign_up(uow, passwords, clock, links, settings)
    for _ in range(settings.login_failures_per_account):
        with pytest.raises(Problem):
            await log_in(uow, credentials(uow, password="Wrong-pass-1"), **deps)
    with pytest.raises(Problem) as throttled:
        await log_in(uow, credentials(uow), **deps)
    assert throttled.value.status == 429 and int(throttled.value.headers["Retry-After"]) > 0


async def test_p3_a_wrong_captcha_refuses_the_log_in(uow, passwords, clock, links, settings, deps):
    await sign_up(uow, passwords, clock, links, settings)
    attempt = credentials(uow)
    with pytest.raises(Problem) as refused:
        await log_in(uow, Credentials(attempt.email, attempt.password, attempt.captcha_token, "ZZZZ", attempt.client), **deps)
    assert refused.value.code == "captcha_invalid"


async def test_a_hash_made_with_other_parameters_is_replaced_at_log_in(uow, passwords, clock, settings, deps):
    """Issue 11: the library's old defaults (m=64 MiB, t=3, p=4) cost ten times today's; the next
    log-in moves the account to the configured parameters, and a current hash stays as it is."""
    old = PasswordHasher(memory_cost=2048, time_cost=3, parallelism=2).hash(GOOD_PASSWORD)
    uow.committed.accounts["A" * 32] = Account(passport_id="A" * 32, email="old@example.com", password_hash=old)
    await log_in(uow, credentials(uow, email="old@example.com"), **deps)
    rehashed = uow.committed.accounts["A" * 32].password_hash
    assert rehashed != old and not passwords.needs_rehash(rehashed)
    assert "m=1024,t=1,p=1" in rehashed and PasswordHasher(**CHEAP).verify(rehashed, GOOD_PASSWORD)
    await log_in(uow, credentials(uow, email="old@example.com"), **deps)
    assert uow.committed.accounts["A" * 32].password_hash == rehashed, "no rehash when nothing changed"


async def test_passwords_needing_rehash_include_unreadable_hashes():
    assert Passwords(PasswordHasher(**CHEAP)).needs_rehash("not-an-argon2-hash")


async def test_staff_accounts_carry_their_roles_and_teachers_their_school(uow, passwords, clock, signer, deps):
    passport_id = await create_staff(
        uow, email="teacher@99101.test", password="Teach-2017x", roles=frozenset({"teacher"}), school_code="99101", passwords=passwords, clock=clock
    )
    teacher = uow.committed.accounts[passport_id]
    assert teacher.roles == ("teacher",) and teacher.school_code == "99101" and teacher.email_verified_at is not None
    # Making a staff account is audited, with the same kind string the console's audit page filters on.
    assert [(row["kind"], row["subject"], row["school"]) for row in uow.committed.audit] == [("staff.created", ("account", passport_id), "99101")]
    # The candidate log-in refuses staff after the right password: their second factor cannot be skipped.
    with pytest.raises(Problem) as refused:
        await log_in(uow, credentials(uow, email="teacher@99101.test", password="Teach-2017x"), **deps)
    assert refused.value.code == "second_factor_required" and not uow.committed.refresh_tokens
    with pytest.raises(Problem) as missing:
        await create_staff(uow, email="t2@x.test", password="Teach-2017x", roles=frozenset({"teacher"}), school_code=None, passwords=passwords, clock=clock)
    assert missing.value.code == "school_code_required"


class WatchedPasswords(Passwords):
    """Notes, at each verification, whether a transaction of the unit of work is open."""

    def __init__(self, uow) -> None:
        super().__init__(PasswordHasher(**CHEAP))
        self._uow = uow
        self.in_transaction: list[bool] = []

    async def verify(self, password_hash: str, password: str) -> bool:
        self.in_transaction.append(self._uow._working is not None)
        return await super().verify(password_hash, password)


async def test_p2_no_transaction_is_open_while_the_password_hash_runs(uow, clock, links, settings, signer):
    """At the peak log-ins queue for a hashing thread: a pooled connection held meanwhile would starve the api."""
    passwords = WatchedPasswords(uow)
    await sign_up(uow, passwords, clock, links, settings)
    deps = {"passwords": passwords, "signer": signer, "clock": clock, "settings": settings}
    session = await log_in(uow, credentials(uow), **deps)
    with pytest.raises(Problem) as wrong:
        await log_in(uow, credentials(uow, password="Wrong-pass-1"), **deps)
    with pytest.raises(Problem):
        await log_in(uow, credentials(uow, email="nobody@example.com"), **deps)
    assert session.refresh_token and wrong.value.code == "invalid_credentials"
    assert passwords.in_transaction and not any(passwords.in_transaction)
    assert sum(uow.committed.hits.values()) == 4, "both failures counted, per client and per account"


async def test_p2_a_spent_captcha_stays_spent_whatever_the_password(uow, passwords, clock, links, settings, deps):
    await sign_up(uow, passwords, clock, links, settings)
    used = credentials(uow, password="Wrong-pass-1")
    with pytest.raises(Problem):
        await log_in(uow, used, **deps)
    with pytest.raises(Problem) as again:
        await log_in(uow, Credentials(**{**used.__dict__, "password": GOOD_PASSWORD}), **deps)
    assert again.value.code == "captcha_invalid"
