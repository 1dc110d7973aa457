"""Account rules (P1, P2, P4, P6, P7). Pure: no I/O, no framework."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

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


def new_link_token() -> tuple[str, str]:
    """A single-use token for a mailed link: (the token for the URL, its SHA-256 we store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_link_token(token)


def hash_link_token(token: str) -> str:
    # Only the hash is stored, so a database read does not give working reset links.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ResetLinks:
    campus: str
    public: str


def reset_links(token: str, *, campus_base_url: str, public_base_url: str) -> ResetLinks:
    """P4: two links to the same token, for the campus network and the public network."""
    path = f"/password/reset?token={token}"
    return ResetLinks(campus=campus_base_url.rstrip("/") + path, public=public_base_url.rstrip("/") + path)


def staff_roles(requested: set[str]) -> frozenset[str]:
    unknown = requested - STAFF_ROLES
    if unknown or not requested:
        raise ValueError(f"staff roles must be among {sorted(STAFF_ROLES)}, got {sorted(requested)}")
    return frozenset(requested)
