"""E11 找回已报名账号: ID type, ID number, name and captcha → the masked email of the account bound
to that candidate's registration in the most recent exam session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cet_shared.id_types import IdType
from cet_shared.privacy import mask_email
from cet_shared.ratelimit import RateLimit
from eligibility.bootstrap import Eligibility
from eligibility.db.tables import accounts, exam_sessions, registrations
from eligibility.service.registry import find_candidate


def recovery_limit(ctx: Eligibility) -> RateLimit:
    return RateLimit("account-recovery", ctx.settings.recovery_requests_per_client, ctx.settings.recovery_window)


def recovery_target_limit(ctx: Eligibility) -> RateLimit:
    return RateLimit("account-recovery-target", ctx.settings.recovery_requests_per_target, ctx.settings.recovery_window)


async def recover(ctx: Eligibility, *, client: str, id_type: IdType, id_number: str, name: str, captcha_token: str, captcha_answer: str) -> dict[str, Any]:
    """The same shape whether or not a match exists; only `found`, `message` and `email` differ."""
    async with ctx.sessions() as session, session.begin():
        await recovery_limit(ctx).consume(session, client, clock=ctx.clock)
        await recovery_target_limit(ctx).consume(session, f"{id_type}:{id_number.strip().upper()}", clock=ctx.clock)
    async with ctx.unit_of_work() as uow:
        session = uow.session
        await ctx.captcha.verify(session, captcha_token, captcha_answer, clock=ctx.clock)
        email = None
        candidate = await find_candidate(session, id_type=id_type, id_number=id_number, name=name)
        if candidate is not None:
            email = await session.scalar(
                select(accounts.c.email)
                .select_from(registrations)
                .join(exam_sessions, exam_sessions.c.id == registrations.c.exam_session_id)
                .join(accounts, accounts.c.passport_id == registrations.c.passport_id)
                .where(registrations.c.student_id == candidate.id)
                .order_by(exam_sessions.c.registration_opens_at.desc(), registrations.c.saved_at.desc())
                .limit(1)
            )
    if email is None:
        return {"found": False, "message": "未找到最近考次的已报名账号，请核对证件类型、证件号码和姓名", "email": None}
    return {"found": True, "message": "找回成功", "email": mask_email(email)}
