"""Account rules (P1, P2, P4, P6, P7). Pure: no I/O, no framework."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

STAFF_ROLES = frozenset({"teacher", "support", "ops"})
PASSWORD_MIN, PASSWORD_MAX = 8, 64
_EMAIL_MAX = 254


class WeakPassword(ValueError):
    """The reason is a Chinese sentence the portal can show as it is."""


def new_passport_id() -> str:
    """P1: 32 upper-case hex characters, e.g. 7DCE2A03B4B74FC9A55F6CA86F73A903; never changes."""
    return uuid.uuid4().hex.upper()


def normalise_email(email: str) -> str:
    """Emails are unique case-insensitively (P1)."""
    return email.strip().lower()


def check_password_strength(password: str, *, email: str | None = None) -> None:
    if len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX:
        raise WeakPassword(f"密码长度应为{PASSWORD_MIN}到{PASSWORD_MAX}位")
    kinds = sum(bool(re.search(pattern, password)) for pattern in (r"[a-zA-Z]", r"\d", r"[^a-zA-Z\d]"))
    if kinds < 2:
        raise WeakPassword("密码须至少包含字母、数字、符号中的两种")
    if email and normalise_email(email).split("@")[0] in password.lower():
        raise WeakPassword("密码不能包含邮箱账号")
    if len(set(password)) < 4:
        raise WeakPassword("密码过于简单")


def new_opaque_token() -> tuple[str, str]:
    """A random token handed out once (a mailed link, a refresh cookie): (the token, its SHA-256 we store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_opaque_token(token)


def hash_opaque_token(token: str) -> str:
    # Only the hash is stored, so a database read gives no working reset link or session.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Profile:
    """P5: what the candidate may edit on the account page."""

    phone: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Account:
    """One passport account as the use cases see it (a row of `accounts`)."""

    passport_id: str
    email: str
    password_hash: str
    profile: Profile = Profile()
    roles: tuple[str, ...] = ("candidate",)
    school_code: str | None = None
    email_verified_at: datetime | None = None
    # Bumped on password reset and change: tokens issued before stop working (P4).
    token_version: int = 0

    @property
    def email_normalised(self) -> str:
        return normalise_email(self.email)


def staff_roles(requested: set[str]) -> frozenset[str]:
    unknown = requested - STAFF_ROLES
    if unknown or not requested:
        raise ValueError(f"staff roles must be among {sorted(STAFF_ROLES)}, got {sorted(requested)}")
    return frozenset(requested)
