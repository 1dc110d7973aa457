"""The links passport mails (P4, P5, P6): a configured base URL and a path, never string surgery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

RESET_PASSWORD_PATH = "/password/reset"
VERIFY_EMAIL_PATH = "/email/verify"


@dataclass(frozen=True)
class MailedLinks:
    """P4: two links to the same token, for the campus network and the public network."""

    campus: str
    public: str


def page_url(base_url: str, path: str, **query: str) -> str:
    """`base_url` may carry a path prefix of its own (a portal served under /cet/): it is kept."""
    base = urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + path, urlencode(query), ""))


@dataclass(frozen=True)
class LinkBuilder:
    campus_base_url: str
    public_base_url: str

    def links(self, path: str, *, token: str) -> MailedLinks:
        return MailedLinks(campus=page_url(self.campus_base_url, path, token=token), public=page_url(self.public_base_url, path, token=token))

    def password_reset(self, token: str) -> MailedLinks:
        return self.links(RESET_PASSWORD_PATH, token=token)

    def email_verification(self, token: str) -> MailedLinks:
        return self.links(VERIFY_EMAIL_PATH, token=token)


PASSWORD_RESET = "password_reset"
EMAIL_VERIFICATION = "email_verification"


@dataclass(frozen=True)
class LinkToken:
    """A single-use, expiring token behind a mailed link; only its hash is stored."""

    token_hash: str
    passport_id: str
    purpose: str  # PASSWORD_RESET or EMAIL_VERIFICATION
    expires_at: datetime
    email: str | None = None  # the address being verified
