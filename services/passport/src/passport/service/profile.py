"""P5 修改资料 and P7 修改密码 on the account page."""

from __future__ import annotations

from cet_shared.clock import Clock
from passport.domain.accounts import Profile
from passport.service.passwords import Passwords, check_new_password
from passport.service.ports import PassportUnitOfWork
from passport.service.problems import old_password_wrong
from passport.service.sessions import end_all_sessions
from passport.settings import PassportSettings


async def update_profile(uow: PassportUnitOfWork, passport_id: str, profile: Profile, *, clock: Clock) -> None:
    async with uow:
        await uow.accounts.set_profile(passport_id, profile, now=clock.now())
        await uow.commit()


async def change_password(
    uow: PassportUnitOfWork,
    passport_id: str,
    *,
    old_password: str,
    new_password: str,
    confirm_password: str,
    passwords: Passwords,
    clock: Clock,
    settings: PassportSettings,
) -> None:
    """P7: old password + new password. Every session ends, as after a reset."""
    async with uow:
        account = await uow.accounts.get(passport_id, for_update=True)
        assert account is not None, "the caller's token names an account"
        if not await passwords.verify(account.password_hash, old_password):
            raise old_password_wrong()
        check_new_password(new_password, confirm_password, email=account.email)
        now = clock.now()
        version = await uow.accounts.change_password(passport_id, await passwords.hash(new_password), now=now)
        await end_all_sessions(uow, passport_id, version, reason="password_change", now=now, access_lifetime=settings.access_token_lifetime)
        await uow.commit()
