"""Issue 11: refresh without a password hash (refresh_session is handed no hasher at all), rotation, reuse detection; log-out and a new password
end a log-in's tokens (P4, P7) — the use cases alone on the in-memory unit of work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from support import CHEAP, GOOD_PASSWORD, claims

from cet_shared.auth import Principal
from cet_shared.problems import Problem
from passport.domain.accounts import Account
from passport.service.log_in import Credentials, log_in
from passport.service.profile import change_password
from passport.service.sessions import Session, log_out, refresh_session

PID = "7DCE2A03B4B74FC9A55F6CA86F73A903"


@pytest.fixture
def account(uow) -> Account:
    account = Account(passport_id=PID, email="liaoxiaoer@example.com", password_hash=PasswordHasher(**CHEAP).hash(GOOD_PASSWORD))
    uow.committed.accounts[PID] = account
    return account


async def logged_in(uow, passwords, signer, clock, settings) -> Session:
    token, answer = uow.captcha()
    credentials = Credentials("liaoxiaoer@example.com", GOOD_PASSWORD, token, answer, "203.0.113.7")
    return await log_in(uow, credentials, passwords=passwords, signer=signer, clock=clock, settings=settings)


async def test_refresh_rotates_and_needs_no_password_hash(uow, account, passwords, signer, clock, settings):
    session = await logged_in(uow, passwords, signer, clock, settings)
    clock.advance(timedelta(minutes=20))
    renewed = await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)
    token = claims(signer, renewed.access_token, clock)
    assert token["sub"] == PID and token["iat"] == int(clock.now().timestamp())
    assert renewed.refresh_token != session.refresh_token
    assert renewed.refresh_expires_in == int((settings.refresh_token_lifetime - timedelta(minutes=20)).total_seconds())
    tokens = list(uow.committed.refresh_tokens.values())
    assert len({t.family_id for t in tokens}) == 1 and [t.used_at is not None for t in tokens] == [True, False]


async def test_reuse_revokes_the_family_and_names_its_live_access_tokens(uow, account, passwords, signer, clock, settings):
    session = await logged_in(uow, passwords, signer, clock, settings)
    renewed = await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)
    with pytest.raises(Problem) as reused:
        await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)
    assert reused.value.status == 401 and reused.value.code == "session_expired"
    assert all(t.revoked_at is not None for t in uow.committed.refresh_tokens.values()), "committed despite the refusal"
    revoked = {e.token_id for e in uow.committed.revocations}
    assert revoked == {claims(signer, session.access_token, clock)["jti"], claims(signer, renewed.access_token, clock)["jti"]}
    assert {e.reason for e, _ in uow.committed.events} == {"refresh_reuse"}
    with pytest.raises(Problem):
        await refresh_session(uow, renewed.refresh_token, signer=signer, clock=clock)


async def test_expired_access_tokens_are_not_revoked_again(uow, account, passwords, signer, clock, settings):
    session = await logged_in(uow, passwords, signer, clock, settings)
    clock.advance(settings.access_token_lifetime + timedelta(seconds=1))
    renewed = await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)
    with pytest.raises(Problem):
        await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)
    assert [e.token_id for e in uow.committed.revocations] == [claims(signer, renewed.access_token, clock)["jti"]]


async def test_a_session_ends_at_its_log_ins_lifetime(uow, account, passwords, signer, clock, settings):
    session = await logged_in(uow, passwords, signer, clock, settings)
    clock.advance(settings.refresh_token_lifetime)
    with pytest.raises(Problem) as late:
        await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)
    assert late.value.code == "session_expired"
    with pytest.raises(Problem):
        await refresh_session(uow, "never-issued", signer=signer, clock=clock)


async def test_log_out_ends_the_family_and_the_access_token(uow, account, passwords, signer, clock, settings):
    session = await logged_in(uow, passwords, signer, clock, settings)
    token = claims(signer, session.access_token, clock)
    principal = Principal(passport_id=PID, roles=frozenset({"candidate"}), token_id=token["jti"], claims=token)
    events = await log_out(uow, principal, session.refresh_token, clock=clock)
    assert [(e.reason, e.token_id) for e in events] == [("log_out", token["jti"])], "one revocation, not two, for the same token"
    with pytest.raises(Problem):
        await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)


async def test_log_out_ignores_another_accounts_refresh_cookie(uow, account, passwords, signer, clock, settings):
    session = await logged_in(uow, passwords, signer, clock, settings)
    stranger = Principal(passport_id="B" * 32, roles=frozenset({"candidate"}), token_id="t" * 32, claims={"exp": int(clock.now().timestamp()) + 60})
    events = await log_out(uow, stranger, session.refresh_token, clock=clock)
    assert [e.passport_id for e in events] == ["B" * 32]
    assert (await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)).passport_id == PID


async def test_p7_a_password_change_ends_every_refresh_token_and_older_access_tokens(uow, account, passwords, signer, clock, settings):
    here = await logged_in(uow, passwords, signer, clock, settings)
    elsewhere = await logged_in(uow, passwords, signer, clock, settings)
    with pytest.raises(Problem) as wrong:
        await change_password(
            uow,
            PID,
            old_password="nope-nope-1",
            new_password="Cet2018-pass!",
            confirm_password="Cet2018-pass!",
            passwords=passwords,
            clock=clock,
            settings=settings,
        )
    assert wrong.value.code == "old_password_wrong"
    await change_password(
        uow,
        PID,
        old_password=GOOD_PASSWORD,
        new_password="Cet2018-pass!",
        confirm_password="Cet2018-pass!",
        passwords=passwords,
        clock=clock,
        settings=settings,
    )
    [revocation] = uow.committed.revocations
    assert revocation.reason == "password_change" and revocation.token_version_below == 1
    for session in (here, elsewhere):
        with pytest.raises(Problem):
            await refresh_session(uow, session.refresh_token, signer=signer, clock=clock)
