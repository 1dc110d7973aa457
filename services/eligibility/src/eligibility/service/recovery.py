"""E11 找回已报名账号: ID type, ID number, name and captcha → the masked email of the account bound
to that candidate's registration in the most recent exam session."""

from __future__ import annotations

from typing import Any

from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import Clock
from cet_shared.id_types import IdType
from cet_shared.privacy import mask_email
from cet_shared.ratelimit import RateLimit
from eligibility.service.ports import EligibilityUnitOfWork
from eligibility.service.registry import find_candidate
from eligibility.settings import EligibilitySettings


def recovery_limit(settings: EligibilitySettings) -> RateLimit:
    return RateLimit("account-recovery", settings.recovery_requests_per_client, settings.recovery_window)


def recovery_target_limit(settings: EligibilitySettings) -> RateLimit:
    return RateLimit("account-recovery-target", settings.recovery_requests_per_target, settings.recovery_window)


async def recover(
    uow: EligibilityUnitOfWork,
    clock: Clock,
    settings: EligibilitySettings,
    captcha: CaptchaSeal,
    *,
    client: str,
    id_type: IdType,
    id_number: str,
    name: str,
    captcha_token: str,
    captcha_answer: str,
) -> dict[str, Any]:
    """The same shape whether or not a match exists; only `found`, `message` and `email` differ."""
    async with uow:
        await uow.throttles.consume(recovery_limit(settings), client, clock=clock)
        await uow.throttles.consume(recovery_target_limit(settings), f"{id_type}:{id_number.strip().upper()}", clock=clock)
        await uow.commit()
    async with uow:
        await uow.throttles.verify_captcha(captcha, captcha_token, captcha_answer, clock=clock)
        email = None
        candidate = await find_candidate(uow.registry, id_type=id_type, id_number=id_number, name=name)
        if candidate is not None:
            email = await uow.registrations.latest_email_of(candidate.id)
    if email is None:
        return {"found": False, "message": "未找到最近考次的已报名账号，请核对证件类型、证件号码和姓名", "email": None}
    return {"found": True, "message": "找回成功", "email": mask_email(email)}
