"""Staff accounts from the console (issue 15): operations create, disable and re-enable staff of
every role and mail them a link to set their password; a province administrator does the same
for the teachers of the schools in their province, and nothing else.

Scope answers are consistent across the suite: a request to act on an account outside the
caller's scope gets 404 (the account is not even visible), a request to make one there 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.auth import Principal
from cet_shared.clock import Clock
from cet_shared.events.contracts import AccountRegistered, SessionsRevoked
from cet_shared.problems import Problem
from passport.db.tables import accounts, staff_accounts, staff_recovery_codes
from passport.db.unit_of_work import SqlPassportUnitOfWork
from passport.domain.accounts import new_opaque_token, new_passport_id, normalise_email
from passport.domain.links import PASSWORD_RESET, LinkBuilder, LinkToken
from passport.domain.staff import CONSOLE_ROLES, Manager, StaffRuleBroken, StaffScope, new_staff_scope, province_of_school
from passport.mail_templates import Mail
from passport.service.passwords import Passwords
from passport.settings import PassportSettings


@dataclass(frozen=True)
class StaffDesk:
    """What managing staff accounts uses, and nothing else of the composition root."""

    units: Callable[[], SqlPassportUnitOfWork]
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    settings: PassportSettings
    passwords: Passwords
    links: LinkBuilder
    access_lifetime: timedelta  # a candidate's access token: a revocation must outlive the longest one


def staff_not_found() -> Problem:
    return Problem(404, "staff_not_found", "管理人员账号不存在")


def out_of_scope() -> Problem:
    return Problem(403, "staff_out_of_scope", "无权管理该范围的账号")


def manager_of(principal: Principal) -> Manager:
    manager = Manager(roles=principal.roles, province_code=principal.province_code)
    if not manager.manages_anyone:
        raise out_of_scope()
    return manager


@dataclass(frozen=True)
class NewStaff:
    email: str
    role: str
    school_code: str | None = None
    province_code: str | None = None


_COLUMNS = (
    accounts.c.passport_id,
    accounts.c.email,
    accounts.c.roles,
    accounts.c.school_code,
    accounts.c.created_at,
    staff_accounts.c.province_code,
    staff_accounts.c.disabled_at,
    staff_accounts.c.last_login_at,
    staff_accounts.c.last_login_address,
    staff_accounts.c.totp_confirmed_at,
)


def _staff_query():  # noqa: ANN202 - a select
    # Accounts made by `passport-admin create-staff` have no staff row until their first log-in.
    return select(*_COLUMNS).select_from(accounts.outerjoin(staff_accounts, staff_accounts.c.passport_id == accounts.c.passport_id))


def _scope_of(row: Any) -> StaffScope:
    role = next((r for r in CONSOLE_ROLES if r in row.roles), "")
    return StaffScope(role, school_code=row.school_code, province_code=row.province_code)


def _view(row: Any) -> dict[str, Any]:
    return {
        "passport_id": row.passport_id,
        "email": row.email,
        "role": _scope_of(row).role,
        "school_code": row.school_code,
        "province_code": row.province_code or (province_of_school(row.school_code) if row.school_code else None),
        "disabled": row.disabled_at is not None,
        "last_login_at": row.last_login_at,
        "last_login_address": row.last_login_address,
        "second_factor": row.totp_confirmed_at is not None,
        "created_at": row.created_at,
    }


async def list_staff(desk: StaffDesk, principal: Principal) -> list[dict[str, Any]]:
    manager = manager_of(principal)
    query = _staff_query().where(accounts.c.roles.overlap(list(CONSOLE_ROLES))).order_by(accounts.c.created_at, accounts.c.passport_id)
    if "ops" not in manager.roles:
        query = query.where(accounts.c.roles.contains(["teacher"]), accounts.c.school_code.like(f"{manager.province_code}%"))
    async with desk.sessions() as session:
        rows = (await session.execute(query.limit(5000))).all()
    return [_view(row) for row in rows if manager.may_manage(_scope_of(row))]


async def _queue_password_link(desk: StaffDesk, uow: SqlPassportUnitOfWork, passport_id: str, email: str, *, first: bool) -> None:
    """A PASSWORD_RESET link, so the portal's own reset page sets it: nobody but the staff member
    ever knows the password."""
    token, token_hash = new_opaque_token()
    lifetime = desk.settings.staff_password_link_lifetime
    await uow.links.add(LinkToken(token_hash, passport_id, PASSWORD_RESET, desk.clock.now() + lifetime))
    links = desk.links.password_reset(token)
    opening = "考试中心已为您开通CET报名管理平台账号。" if first else "考试中心为您的CET报名管理平台账号重置了密码。"
    await uow.outbox.queue_mail(
        Mail(
            to=email,
            subject="CET报名管理平台 设置密码",
            body=(
                f"您好！\n\n{opening}请点击下面任一链接设置密码（两个链接效果相同，只能使用一次）：\n"
                f"校园网用户：{links.campus}\n公网用户：{links.public}\n\n"
                f"链接{int(lifetime.total_seconds() // 3600)}小时内有效。首次登录管理平台时须绑定动态验证码（身份验证器应用）。\n"
            ),
        )
    )


async def create_staff_account(desk: StaffDesk, principal: Principal, new: NewStaff) -> str:
    manager = manager_of(principal)
    try:
        scope = new_staff_scope(new.role, school_code=new.school_code, province_code=new.province_code)
    except StaffRuleBroken as broken:
        raise Problem(422, broken.code, str(broken)) from None
    if not manager.may_manage(scope):
        raise out_of_scope()
    passport_id = new_passport_id()
    # A random password nobody knows, until the mailed link sets one.
    unusable = await desk.passwords.hash(new_opaque_token()[0])
    async with desk.units() as uow:
        now = desk.clock.now()
        try:
            async with uow.session.begin_nested():
                await uow.session.execute(
                    insert(accounts).values(
                        passport_id=passport_id,
                        email=new.email.strip(),
                        email_normalised=normalise_email(new.email),
                        email_verified_at=now,
                        password_hash=unusable,
                        roles=[scope.role],
                        school_code=scope.school_code,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise Problem(409, "email_taken", "该邮箱已注册") from None
        await uow.session.execute(insert(staff_accounts).values(passport_id=passport_id, province_code=scope.province_code, created_by=principal.passport_id))
        await _queue_password_link(desk, uow, passport_id, new.email.strip(), first=True)
        await uow.publish(AccountRegistered(passport_id=passport_id, email=new.email.strip(), registered_at=now), key=passport_id)
        await uow.audit.record(
            "staff.created",
            ("account", passport_id),
            after={"roles": [scope.role], "school_code": scope.school_code, "province_code": scope.province_code},
            school=scope.school_code,
            province=scope.province_code,
        )
        await uow.commit()
    return passport_id


async def _managed(session, manager: Manager, passport_id: str) -> Any:  # noqa: ANN001
    row = (await session.execute(_staff_query().where(accounts.c.passport_id == passport_id).with_for_update(of=accounts))).first()
    if row is None or not row.roles or not set(row.roles) & set(CONSOLE_ROLES) or not manager.may_manage(_scope_of(row)):
        raise staff_not_found()
    return row


async def _ensure_staff_row(session, passport_id: str, province_code: str | None) -> None:  # noqa: ANN001
    await session.execute(upsert(staff_accounts).values(passport_id=passport_id, province_code=province_code).on_conflict_do_nothing())


async def _end_sessions(desk: StaffDesk, uow: SqlPassportUnitOfWork, passport_id: str, reason: str) -> None:
    """Every token of the account stops working in every service (SessionsRevoked)."""
    now = desk.clock.now()
    version = await uow.session.scalar(
        update(accounts)
        .where(accounts.c.passport_id == passport_id)
        .values(token_version=accounts.c.token_version + 1, updated_at=now)
        .returning(accounts.c.token_version)
    )
    event = SessionsRevoked(
        passport_id=passport_id,
        reason=reason,
        token_version_below=version,
        revoked_at=now,
        expires_at=now + max(desk.access_lifetime, desk.settings.staff_access_token_lifetime),
    )
    await uow.record_revocation(event)
    await uow.publish(event, key=passport_id)


async def set_disabled(desk: StaffDesk, principal: Principal, passport_id: str, *, disabled: bool) -> dict[str, Any]:
    """Disabling ends the account's sessions in every service at once (SessionsRevoked)."""
    manager = manager_of(principal)
    async with desk.units() as uow:
        row = await _managed(uow.session, manager, passport_id)
        if passport_id == principal.passport_id:
            raise Problem(409, "staff_self_disable", "不能停用自己的账号")
        await _ensure_staff_row(uow.session, passport_id, row.province_code)
        now = desk.clock.now()
        if disabled and row.disabled_at is None:
            await uow.session.execute(
                update(staff_accounts).where(staff_accounts.c.passport_id == passport_id).values(disabled_at=now, disabled_by=principal.passport_id)
            )
            await _end_sessions(desk, uow, passport_id, "account_disabled")
        elif not disabled and row.disabled_at is not None:
            await uow.session.execute(update(staff_accounts).where(staff_accounts.c.passport_id == passport_id).values(disabled_at=None, disabled_by=None))
        if disabled != (row.disabled_at is not None):  # a change, not a repeat: audited (who disabled or re-enabled whom)
            await uow.audit.record(
                "staff.disabled" if disabled else "staff.enabled",
                ("account", passport_id),
                before={"disabled": not disabled},
                after={"disabled": disabled},
                school=row.school_code,
                province=row.province_code,
            )
        await uow.commit()
    async with desk.sessions() as session:
        return _view((await session.execute(_staff_query().where(accounts.c.passport_id == passport_id))).one())


async def send_password_link(desk: StaffDesk, principal: Principal, passport_id: str) -> None:
    """重置密码: the staff member gets a mail with a link to set a new one (the old one keeps
    working until they do; the link's use ends their older sessions, as any reset does)."""
    manager = manager_of(principal)
    async with desk.units() as uow:
        row = await _managed(uow.session, manager, passport_id)
        await _queue_password_link(desk, uow, passport_id, row.email, first=False)
        await uow.commit()


async def reset_second_factor(desk: StaffDesk, principal: Principal, passport_id: str) -> dict[str, Any]:
    """重置动态验证码, for a lost phone and lost recovery codes: the next log-in enrols afresh, and
    the sessions the old factor opened end now."""
    manager = manager_of(principal)
    async with desk.units() as uow:
        row = await _managed(uow.session, manager, passport_id)
        await _ensure_staff_row(uow.session, passport_id, row.province_code)
        await uow.session.execute(
            update(staff_accounts).where(staff_accounts.c.passport_id == passport_id).values(totp_seed_sealed=None, totp_confirmed_at=None, totp_last_step=None)
        )
        await uow.session.execute(delete(staff_recovery_codes).where(staff_recovery_codes.c.passport_id == passport_id))
        await _end_sessions(desk, uow, passport_id, "second_factor_reset")
        await uow.audit.record("staff.second_factor_reset", ("account", passport_id), school=row.school_code)
        await uow.commit()
    async with desk.sessions() as session:
        return _view((await session.execute(_staff_query().where(accounts.c.passport_id == passport_id))).one())
