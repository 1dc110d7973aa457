"""P1 registration, and the staff accounts operations create (`passport-admin create-staff`)."""

from __future__ import annotations

from dataclasses import dataclass

from cet_shared.clock import Clock
from cet_shared.events.contracts import AccountRegistered
from passport import mail_templates
from passport.domain.accounts import Account, Profile, WeakPassword, check_password_strength, new_passport_id
from passport.domain.links import LinkBuilder
from passport.service.email_verification import queue_verification
from passport.service.passwords import Passwords, check_new_password
from passport.service.ports import PassportUnitOfWork
from passport.service.problems import email_taken, school_code_required, weak_password
from passport.settings import PassportSettings


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    confirm_password: str
    captcha_token: str
    captcha_answer: str
    profile: Profile


async def register(
    uow: PassportUnitOfWork, registration: Registration, *, passwords: Passwords, clock: Clock, links: LinkBuilder, settings: PassportSettings
) -> str | None:
    """A new account with a new passport id; AccountRegistered goes out with the commit.

    The caller's answer is the same whether or not the email already has an account (no
    enumeration): a taken address gets a mail telling its owner instead. Returns the new passport
    id, or None when the email was taken.
    """
    email = registration.email.strip()
    async with uow:
        await uow.guards.verify_captcha(registration.captcha_token, registration.captcha_answer)
        check_new_password(registration.password, registration.confirm_password, email=email)
        password_hash = await passwords.hash(registration.password)  # hashed on both paths: same cost, same timing
        now = clock.now()
        account = Account(passport_id=new_passport_id(), email=email, password_hash=password_hash, profile=registration.profile)
        if not await uow.accounts.add(account, now=now):
            owner = await uow.accounts.by_email(email)
            await uow.outbox.queue_mail(mail_templates.registration_reminder(owner.email if owner else email))
            await uow.commit()
            return None
        await uow.publish(AccountRegistered(passport_id=account.passport_id, email=email, registered_at=now), key=account.passport_id)
        await queue_verification(uow, account.passport_id, email, clock=clock, links=links, settings=settings)
        await uow.commit()
    return account.passport_id


async def create_staff(
    uow: PassportUnitOfWork, *, email: str, password: str, roles: frozenset[str], school_code: str | None, passwords: Passwords, clock: Clock
) -> str:
    """A passport account with staff roles (teachers tied to their school); its email counts as verified."""
    try:
        check_password_strength(password, email=email)
    except WeakPassword as exc:
        raise weak_password(str(exc)) from None
    if "teacher" in roles and not (school_code and len(school_code) == 5 and school_code.isdigit()):
        raise school_code_required()
    password_hash = await passwords.hash(password)
    async with uow:
        now = clock.now()
        account = Account(
            passport_id=new_passport_id(),
            email=email,
            password_hash=password_hash,
            roles=tuple(sorted(roles)),
            school_code=school_code if "teacher" in roles else None,
            email_verified_at=now,
        )
        if not await uow.accounts.add(account, now=now):
            raise email_taken("该邮箱已注册")
        await uow.publish(AccountRegistered(passport_id=account.passport_id, email=email, registered_at=now), key=account.passport_id)
        await uow.audit.record(
            "staff.created",
            ("account", account.passport_id),
            after={"roles": sorted(roles), "school_code": school_code},
            school=account.school_code,
        )
        await uow.commit()
    return account.passport_id
