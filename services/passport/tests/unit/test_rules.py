"""The pure parts: links from a base URL and a path, the refresh verdicts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from support import START

from passport.domain.accounts import Account
from passport.domain.links import LinkBuilder, page_url
from passport.domain.sessions import RefreshToken, RefreshVerdict, judge_refresh


def test_links_are_built_from_base_url_and_path_never_by_replacing_text():
    assert page_url("https://cet.test", "/email/verify", token="a-b_c") == "https://cet.test/email/verify?token=a-b_c"
    assert page_url("https://cet.test/cet/", "/password/reset", token="t") == "https://cet.test/cet/password/reset?token=t"
    links = LinkBuilder(campus_base_url="http://10.0.0.1:8080", public_base_url="https://cet.test").email_verification("tok")
    assert (links.campus, links.public) == ("http://10.0.0.1:8080/email/verify?token=tok", "https://cet.test/email/verify?token=tok")
    assert page_url("https://cet.test", "/password/reset", token="a+b/c") == "https://cet.test/password/reset?token=a%2Bb%2Fc"


def token(**changes: object) -> RefreshToken:
    base = RefreshToken(
        token_hash="h",
        family_id="f",
        passport_id="P",
        token_version=0,
        issued_at=START,
        expires_at=START + timedelta(hours=12),
        access_token_id="j",
        access_expires_at=START + timedelta(minutes=15),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_refresh_verdicts():
    account = Account(passport_id="P", email="a@example.com", password_hash="x")
    now = START + timedelta(minutes=1)
    assert judge_refresh(token(), account, now=now) is RefreshVerdict.ROTATE
    assert judge_refresh(token(used_at=START), account, now=now) is RefreshVerdict.REUSED
    assert judge_refresh(token(used_at=START, revoked_at=START), account, now=now) is RefreshVerdict.REFUSED, "a family already ended"
    assert judge_refresh(token(), account, now=START + timedelta(hours=12)) is RefreshVerdict.REFUSED
    assert judge_refresh(token(token_version=0), Account("P", "a@example.com", "x", token_version=1), now=now) is RefreshVerdict.REFUSED
    assert judge_refresh(None, account, now=now) is RefreshVerdict.REFUSED
    assert judge_refresh(token(), None, now=now) is RefreshVerdict.REFUSED
