"""Request and response bodies. Every field is bounded so no input can reach the database unchecked."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints, field_validator

from cet_shared.id_types import IdType, parse_id_type
from cet_shared.strict import Strict

Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]
CaptchaAnswer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16, pattern=r"\S")]
CaptchaToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]
# The validator refuses special-use domains (RFC 6761: a.test, b.invalid, …): the schema says so.
_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")
_NOT_SPECIAL_USE = "".join("(?<!\\." + "".join(f"[{c.upper()}{c}]" for c in name) + ")" for name in _SPECIAL_USE)
Email = Annotated[EmailStr, StringConstraints(max_length=254), Field(json_schema_extra={"pattern": f"^[^@]+@[^@]+{_NOT_SPECIAL_USE}$"})]


class CaptchaFields(Strict):
    captcha_token: CaptchaToken
    captcha_answer: CaptchaAnswer


class ProfileFields(Strict):
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9\- ]{5,20}$")] | None = None
    id_type: IdType | None = Field(default=None, description="证件类型（也接受其中文名称）")
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32, pattern=r"^[0-9A-Za-z()（）\-]+$")] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"\S")] | None = None

    @field_validator("id_type", mode="before")
    @classmethod
    def _known_id_type(cls, value: object) -> IdType | None:
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 32:
            raise ValueError("证件类型不正确")
        return parse_id_type(value)  # 军官证 gets its own refusal


class RegisterRequest(CaptchaFields, ProfileFields):
    email: Email
    password: Password
    confirm_password: Password


class LoginRequest(CaptchaFields):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254, pattern=r"\S")]
    password: Password


class PasswordRecoveryRequest(CaptchaFields):
    email: Email


class PasswordResetRequest(Strict):
    token: Annotated[str, StringConstraints(min_length=16, max_length=128)]
    email: Email
    password: Password
    confirm_password: Password


class EmailChangeRequest(CaptchaFields):
    new_email: Email


class EmailVerifyRequest(Strict):
    token: Annotated[str, StringConstraints(min_length=16, max_length=128)]


class PasswordChangeRequest(Strict):
    old_password: Password
    new_password: Password
    confirm_password: Password


class CaptchaChallenge(BaseModel):
    captcha_token: str
    image: str = Field(pattern=r"^data:image/png;base64,", description="PNG 图片的 data: URL")
    expires_in: int


class LoggedIn(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    passport_id: str


class Message(BaseModel):
    message: str


class AccountPage(BaseModel):
    """P5: the account page."""

    passport_id: str
    email: str
    email_verified: bool
    phone: str | None
    id_type: IdType | None
    id_type_label: str | None
    id_number: str | None
    name: str | None
    roles: list[str] = Field(description="candidate、teacher、support、ops（cet_shared.auth.ROLES）")
    school_code: str | None
