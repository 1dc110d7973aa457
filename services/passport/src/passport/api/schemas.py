"""Request and response bodies. Every field is bounded so no input can reach the database unchecked."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, EmailStr, Field, StringConstraints, field_validator

from cet_shared.id_types import parse_id_type
from cet_shared.strict import Strict

Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]
CaptchaAnswer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
CaptchaToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Email = Annotated[EmailStr, StringConstraints(max_length=254)]



class CaptchaFields(Strict):
    captcha_token: CaptchaToken
    captcha_answer: CaptchaAnswer


class ProfileFields(Strict):
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9\- ]{5,20}$")] | None = None
    id_type: str | None = Field(default=None, max_length=32)
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32, pattern=r"^[0-9A-Za-z()（）\-]+$")] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)] | None = None

    @field_validator("id_type")
    @classmethod
    def _known_id_type(cls, value: str | None) -> str | None:
        return None if value is None else parse_id_type(value).value


class RegisterRequest(CaptchaFields, ProfileFields):
    email: Email
    password: Password
    confirm_password: Password


class LoginRequest(CaptchaFields):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
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
    image: str  # data: URL of a PNG
    expires_in: int


class LoggedIn(BaseModel):
    access_token: str
    token_type: str = "bearer"
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
    id_type: str | None
    id_type_label: str | None
    id_number: str | None
    name: str | None
    roles: list[str]
    school_code: str | None
