"""Who staff are and whom they may manage. Pure: no I/O, no framework.

Roles: operations (ops) manage every staff account; a province administrator manages the
teachers of the schools in their province and nothing else; support and teachers manage none.
A school's province is the first two digits of its five-digit code (99101 → 99), as in the
national school list the registry imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CONSOLE_ROLES = ("teacher", "province_admin", "support", "ops")
ROLE_LABELS = {"teacher": "学校负责老师", "province_admin": "省级管理员", "support": "客服", "ops": "考试中心运维"}


class StaffRuleBroken(ValueError):
    """code: a stable problem code; the message is a Chinese sentence the console shows."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def signs_in_with_second_factor(roles: tuple[str, ...] | list[str]) -> bool:
    """Console accounts log in with a TOTP code as well as the password (issue 15)."""
    return bool(set(roles) & set(CONSOLE_ROLES))


def province_of_school(school_code: str) -> str:
    return school_code[:2]


@dataclass(frozen=True)
class StaffScope:
    role: str
    school_code: str | None = None
    province_code: str | None = None


def new_staff_scope(role: str, *, school_code: str | None, province_code: str | None) -> StaffScope:
    """The scope a new account gets: a teacher a school (and so its province), a province
    administrator a province, support and operations none."""
    if role not in CONSOLE_ROLES:
        raise StaffRuleBroken("staff_role_invalid", "角色不正确")
    if role == "teacher":
        if not (school_code and len(school_code) == 5 and school_code.isdigit()):
            raise StaffRuleBroken("school_code_required", "教师账号须指定5位学校代码")
        return StaffScope(role, school_code=school_code, province_code=province_of_school(school_code))
    if role == "province_admin":
        if not (province_code and len(province_code) == 2 and province_code.isdigit()):
            raise StaffRuleBroken("province_code_required", "省级管理员须指定2位省份代码")
        return StaffScope(role, province_code=province_code)
    return StaffScope(role)


@dataclass(frozen=True)
class Manager:
    """The staff member acting in the console."""

    roles: frozenset[str]
    province_code: str | None = None

    def may_manage(self, target: StaffScope) -> bool:
        if "ops" in self.roles:
            return True
        if "province_admin" in self.roles and self.province_code:
            return target.role == "teacher" and target.school_code is not None and province_of_school(target.school_code) == self.province_code
        return False

    @property
    def manages_anyone(self) -> bool:
        return "ops" in self.roles or ("province_admin" in self.roles and bool(self.province_code))


@dataclass(frozen=True)
class StaffSecondFactor:
    """A staff account's second factor as the log-in sees it (a row of `staff_accounts`)."""

    passport_id: str
    province_code: str | None = None
    disabled_at: datetime | None = None
    totp_secret: str | None = None
    totp_confirmed_at: datetime | None = None  # None: not enrolled yet
    totp_last_step: int | None = None  # a code works once (RFC 6238 §5.2)


@dataclass(frozen=True)
class LoginChallenge:
    """Between the password and the second factor: single-use, short-lived, a bound on wrong codes."""

    token_hash: str
    passport_id: str
    expires_at: datetime
    failures: int = 0
    used_at: datetime | None = None
