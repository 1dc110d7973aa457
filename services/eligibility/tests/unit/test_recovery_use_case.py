"""E11 找回已报名账号 on the fake unit of work: the masked email of the latest session's account,
the same answer shape either way, a captcha spent once, limits per client."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from cet_shared.captcha import CaptchaSeal
from cet_shared.id_types import IdType
from cet_shared.problems import Problem
from eligibility.service.recovery import recover
from eligibility.service.registrations import accept_agreement, save

LIAO = {"id_type": IdType.RESIDENT_ID_CARD, "id_number": "330101199001010024", "name": "廖晓儿"}


async def test_e11_recovery_masks_the_latest_accounts_email_and_spends_the_captcha(demo, clock, settings, open_session):
    seal = CaptchaSeal(settings.captcha_secret)
    ask = {"client": "203.0.113.7", "captcha_token": "ok:K7PX", "captcha_answer": "K7PX", **LIAO}
    nothing = await recover(demo, clock, settings, seal, **ask)
    assert nothing == {"found": False, "message": "未找到最近考次的已报名账号，请核对证件类型、证件号码和姓名", "email": None}
    with pytest.raises(Problem) as spent:
        await recover(demo, clock, settings, seal, **ask)
    assert spent.value.code == "captcha_invalid"
    for email in ("old.account@example.com", "new.account@example.com"):
        open_session(lasts=timedelta(days=1))
        passport_id = uuid.uuid4().hex.upper()
        demo.committed.emails[passport_id] = email
        await accept_agreement(demo, clock, settings, passport_id=passport_id, version=settings.agreement_version)
        await save(demo, clock, settings, passport_id=passport_id, confirmed=True, **LIAO)
        clock.advance(timedelta(days=2))
    found = await recover(demo, clock, settings, seal, **{**ask, "captcha_token": "ok:AB12", "captcha_answer": "AB12"})
    assert found["found"] is True and found["email"] != "new.account@example.com" and found["email"].startswith("n")
    assert found["email"].endswith("@example.com") and set(found) == set(nothing)


async def test_e11_recovery_is_limited_per_client_before_the_captcha_is_looked_at(demo, clock, settings):
    settings.recovery_requests_per_client = 1
    seal = CaptchaSeal(settings.captcha_secret)
    await recover(demo, clock, settings, seal, client="c", captcha_token="ok:A", captcha_answer="A", **LIAO)
    with pytest.raises(Problem) as limited:
        await recover(demo, clock, settings, seal, client="c", captcha_token="ok:B", captcha_answer="B", **LIAO)
    assert limited.value.status == 429 and "ok:B" not in demo.committed.spent_captchas
