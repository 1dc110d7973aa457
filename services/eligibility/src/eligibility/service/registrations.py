"""The candidate's way from the agreement to a saved, bound registration (E2–E8)."""

from __future__ import annotations

import uuid
from typing import Any

from cet_shared.clock import Clock
from cet_shared.events.contracts import RegistrationBound, RegistrationSnapshot
from cet_shared.id_types import IdType
from cet_shared.privacy import mask_id_number
from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit
from eligibility.domain.model import Registration, SessionWindow, WindowState, snapshot_of
from eligibility.service.ports import BindingTaken, EligibilityUnitOfWork
from eligibility.service.registry import confirmation_page, find_candidate, no_record
from eligibility.service.sessions import current_session, require_open
from eligibility.settings import EligibilitySettings

NOT_SET = "未设置"


# -- E2 agreement ----------------------------------------------------------------------------------


async def accept_agreement(uow: EligibilityUnitOfWork, clock: Clock, settings: EligibilitySettings, *, passport_id: str, version: str) -> None:
    if version != settings.agreement_version:
        raise Problem(409, "agreement_outdated", "报名协议已更新，请重新阅读后同意")
    async with uow:
        await uow.agreements.accept(passport_id, version, clock.now())
        await uow.commit()


async def has_accepted(uow: EligibilityUnitOfWork, settings: EligibilitySettings, *, passport_id: str) -> bool:
    async with uow:
        return await uow.agreements.accepted(passport_id, settings.agreement_version)


async def _require_agreement(uow: EligibilityUnitOfWork, settings: EligibilitySettings, passport_id: str) -> None:
    if not await uow.agreements.accepted(passport_id, settings.agreement_version):
        raise Problem(403, "agreement_required", "请先阅读并勾选同意报名协议")


# -- E3/E4/E5 query and confirmation ------------------------------------------------------------------


def query_limits(settings: EligibilitySettings) -> tuple[RateLimit, RateLimit, RateLimit]:
    """Per account, per client address, per queried ID number."""
    s = settings
    return (
        RateLimit("query-account", s.queries_per_account, s.query_window),
        RateLimit("query-client", s.queries_per_client, s.query_window),
        RateLimit("query-target", s.queries_per_target, s.query_window),
    )


def _window_view(window: SessionWindow | None) -> dict[str, Any]:
    if window is None:
        return {"exam_session": None, "window": "none", "can_save": False}
    return {
        "exam_session": {"id": str(window.id), "name": window.session.name},
        "window": window.state.value,
        "can_save": window.state is WindowState.OPEN,
    }


async def query(
    uow: EligibilityUnitOfWork, clock: Clock, settings: EligibilitySettings, *, passport_id: str, client: str, id_type: IdType, id_number: str, name: str
) -> dict[str, Any]:
    """E3 → E4. Every query counts against the account's and the client's limits, found or not.
    Before the window (E5) the page is only shown: nothing is stored or bound, and one account may
    query several candidates."""
    per_account, per_client, per_target = query_limits(settings)
    async with uow:  # the counts commit even when nothing is found
        await _require_agreement(uow, settings, passport_id)
        await uow.throttles.consume(per_client, client, clock=clock)
        await uow.throttles.consume(per_account, passport_id, clock=clock)
        await uow.throttles.consume(per_target, f"{id_type}:{id_number.strip().upper()}", clock=clock)
        await uow.commit()
    async with uow:
        candidate = await find_candidate(uow.registry, id_type=id_type, id_number=id_number, name=name)
        if candidate is None:
            raise no_record()
        window = await current_session(uow, clock.now())
    return {
        "message": "查询成功",
        "confirmation": confirmation_page(snapshot_of(candidate), candidate.qualification_subjects),
        **_window_view(window),
    }


# -- E6/E7 save and bind ----------------------------------------------------------------------------


def account_already_bound() -> Problem:
    return Problem(
        409,
        "account_already_bound",
        "当前通行证账号已绑定其他考生的报名信息，一个通行证账号只能绑定一个考生的报名信息",
        recovery="/account-recovery",
    )


def candidate_already_bound() -> Problem:
    return Problem(
        409,
        "candidate_already_bound",
        "该考生的报名信息已绑定到其他通行证账号。如忘记已报名的账号，请通过“找回已报名账号”找回",
        recovery="/account-recovery",
    )


async def save(
    uow: EligibilityUnitOfWork, clock: Clock, settings: EligibilitySettings, *, passport_id: str, id_type: IdType, id_number: str, name: str, confirmed: bool
) -> dict[str, Any]:
    """E6 保存并继续: inside the window, confirm box ticked → snapshot + binding, RegistrationBound.

    E7 exactly one winner: the two unique constraints of `registrations` decide between
    concurrent saves; the loser's insert fails and it gets a clear answer."""
    if not confirmed:
        raise Problem(422, "confirm_required", "请勾选“我已检查并确认学籍与资格信息正确”")
    now = clock.now()
    async with uow:
        await _require_agreement(uow, settings, passport_id)
        candidate = await find_candidate(uow.registry, id_type=id_type, id_number=id_number, name=name)
        if candidate is None:
            raise no_record()
        window = require_open(await current_session(uow, now))
        existing = await uow.registrations.bound(window.id, passport_id)
        if existing is not None:
            if existing.student_id == candidate.id:
                return _registration_view(existing, window)  # saved before: nothing to do
            raise account_already_bound()
        snapshot = snapshot_of(candidate)
        registration = Registration(uuid.uuid4(), window.id, passport_id, candidate.id, snapshot, candidate.qualification_subjects, now)
        try:
            await uow.registrations.add(registration)
        except BindingTaken as taken:
            # Lost the race. A concurrent save of the same pair by the same account is success.
            mine = await uow.registrations.bound(window.id, passport_id)
            if mine is not None and mine.student_id == candidate.id:
                return _registration_view(mine, window)
            raise candidate_already_bound() if taken.side == "candidate" else account_already_bound() from None
        # A teacher's CET6 application made before the candidate had an account joins it.
        await uow.reviews.claim(candidate.id, passport_id)
        await uow.publish(
            RegistrationBound(
                registration_id=registration.id,
                exam_session_id=window.id,
                passport_id=passport_id,
                snapshot=RegistrationSnapshot.model_validate(snapshot),
                bound_at=now,
            ),
            key=str(registration.id),
        )
        await uow.commit()
    return _registration_view(registration, window, message="保存成功")


def _registration_view(registration: Registration, window: SessionWindow, *, message: str | None = None) -> dict[str, Any]:
    page = confirmation_page(registration.snapshot, list(registration.qualification_subjects))
    # The registration info page shows personal data masked; the candidate confirmed it already.
    page["id_number"] = mask_id_number(page["id_number"])
    return {
        "message": message,
        "registration_id": str(registration.id),
        "exam_session": {"id": str(window.id), "name": window.session.name},
        "saved_at": registration.saved_at,
        "registration": page,
    }


async def my_registration(uow: EligibilityUnitOfWork, clock: Clock, *, passport_id: str) -> dict[str, Any]:
    """The caller's own registration in the current session; nobody else's (privacy)."""
    async with uow:
        window = await current_session(uow, clock.now())
        registration = None if window is None else await uow.registrations.bound(window.id, passport_id)
    if registration is None or window is None:
        raise Problem(404, "no_registration", "当前通行证账号在本考次没有报名信息")
    return _registration_view(registration, window)


async def home(uow: EligibilityUnitOfWork, clock: Clock, settings: EligibilitySettings, *, passport_id: str) -> dict[str, Any]:
    """E8: the header's name (姓名: 未设置 until bound) and the start page's 考次 and 报名状态."""
    async with uow:
        window = await current_session(uow, clock.now())
        registration = None if window is None else await uow.registrations.bound(window.id, passport_id)
        agreed = await uow.agreements.accepted(passport_id, settings.agreement_version)
    return {
        "header_name": registration.snapshot["name"] if registration is not None else NOT_SET,
        "exam_session_name": window.session.name if window is not None else None,
        "registration_status": "已保存报名信息" if registration is not None else "未报名或当前通行证账号非报名时账号",
        "bound": registration is not None,
        "agreement_accepted": agreed,
        **_window_view(window),
    }
