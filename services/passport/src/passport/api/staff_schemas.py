"""Bodies of the staff log-in and staff account routes (issue 15)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints, model_validator

from passport.api.schemas import Email, LoggedIn, Strict

Role = Literal["teacher", "province_admin", "support", "ops"]
SchoolCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{5}$")]
ProvinceCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{2}$")]
ChallengeToken = Annotated[str, StringConstraints(min_length=16, max_length=128)]


class SecondFactorRequest(Strict):
    challenge: ChallengeToken
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=8)] | None = None
    recovery_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=32)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SecondFactorRequest:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("请填写动态验证码或恢复码（二选一）")
        return self


class SecondFactorChallenge(BaseModel):
    """The password was right: now a code. `second_factor` "enrol": scan `qr_svg` (or type
    `secret`, or open `otpauth_uri`) in an authenticator app, then send its first code."""

    challenge: str
    second_factor: Literal["enrol", "totp"]
    expires_in: int
    otpauth_uri: str | None = None
    secret: str | None = None
    qr_svg: str | None = None


class StaffLoggedIn(LoggedIn):
    recovery_codes: list[str] | None = None  # shown once, right after enrolment


class NewStaffRequest(Strict):
    email: Email
    role: Role
    school_code: SchoolCode | None = None
    province_code: ProvinceCode | None = None


class StaffCreated(BaseModel):
    passport_id: str
    message: str


class StaffAccount(BaseModel):
    passport_id: str
    email: str
    role: str
    school_code: str | None
    province_code: str | None
    disabled: bool
    last_login_at: datetime | None
    last_login_address: str | None
    second_factor: bool
    created_at: datetime


class StaffScopeView(BaseModel):
    roles: list[str]
    school_code: str | None
    province_code: str | None
