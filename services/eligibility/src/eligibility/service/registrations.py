"""The candidate's way from the agreement to a saved, bound registration (E2–E9), and support's
rebinding (E12)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared import audit
from cet_shared.events.contracts import RegistrationBound, RegistrationRebound, RegistrationReleased, RegistrationSnapshot
from cet_shared.id_types import IdType
from cet_shared.privacy import mask_id_number, mask_name
from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit
from eligibility.bootstrap import Eligibility
from eligibility.db.tables import (
    ACTIVE_SUBJECT_STATUSES,
    agreement_acceptances,
    cet6_reviews,
    exam_sessions,
    rebind_audit,
    registration_subjects,
    registrations,
)
from eligibility.service.registry import confirmation_page, find_candidate, no_record, snapshot_of
from eligibility.service.sessions import SessionWindow, WindowState, current_session, require_open

PASSPORT_ID = re.compile(r"^[0-9A-F]{32}$")
NOT_SET = "未设置"


# -- E2 agreement ----------------------------------------------------------------------------------

async def accept_agreement(ctx: Eligibility, *, passport_id: str, version: str) -> None:
    if version != ctx.settings.agreement_version:
        raise Problem(409, "agreement_outdated", "报名协议已更新，请重新阅读后同意")
    async with ctx.unit_of_work() as uow:
        await uow.session.execute(
            pg_insert(agreement_acceptances)
            .values(passport_id=passport_id, version=version, accepted_at=ctx.clock.now())
            .on_conflict_do_nothing()
        )
        await uow.commit()


async def has_accepted(ctx: Eligibility, session: AsyncSession, passport_id: str) -> bool:
    found = await session.scalar(
        select(agreement_acceptances.c.accepted_at).where(
            agreement_acceptances.c.passport_id == passport_id, agreement_acceptances.c.version == ctx.settings.agreement_version
        )
    )
    return found is not None


async def _require_agreement(ctx: Eligibility, session: AsyncSession, passport_id: str) -> None:
    if not await has_accepted(ctx, session, passport_id):
        raise Problem(403, "agreement_required", "请先阅读并勾选同意报名协议")


# -- E3/E4/E5 query and confirmation ------------------------------------------------------------------

def query_limits(ctx: Eligibility) -> tuple[RateLimit, RateLimit]:
    s = ctx.settings
    return RateLimit("query-account", s.queries_per_account, s.query_window), RateLimit("query-client", s.queries_per_client, s.query_window)


def _window_view(window: SessionWindow | None) -> dict[str, Any]:
    if window is None:
        return {"exam_session": None, "window": "none", "can_save": False}
    return {
        "exam_session": {"id": str(window.row.id), "name": window.row.name},
        "window": window.state.value,
        "can_save": window.state is WindowState.OPEN,
    }


async def query(ctx: Eligibility, *, passport_id: str, client: str, id_type: IdType, id_number: str, name: str) -> dict[str, Any]:
    """E3 → E4. Every query counts against the account's and the client's limits, found or not.
    Before the window (E5) the page is only shown: nothing is stored or bound, and one account may
    query several candidates."""
    per_account, per_client = query_limits(ctx)
    async with ctx.sessions() as session, session.begin():
        await _require_agreement(ctx, session, passport_id)
        await per_client.consume(session, client, clock=ctx.clock)
        await per_account.consume(session, passport_id, clock=ctx.clock)
        target = RateLimit("query-target", ctx.settings.queries_per_target, ctx.settings.query_window)
        await target.consume(session, f"{id_type}:{id_number.strip().upper()}", clock=ctx.clock)
    async with ctx.sessions() as session:
        candidate = await find_candidate(session, id_type=id_type, id_number=id_number, name=name)
        if candidate is None:
            raise no_record()
        window = await current_session(session, ctx.clock.now())
    return {
        "message": "查询成功",
        "confirmation": confirmation_page(snapshot_of(candidate), candidate.qualification_subjects),
        **_window_view(window),
    }


# -- E6/E7 save and bind ----------------------------------------------------------------------------

def account_already_bound() -> Problem:
    return Problem(
        409, "account_already_bound", "当前通行证账号已绑定其他考生的报名信息，一个通行证账号只能绑定一个考生的报名信息",
        recovery="/account-recovery",
    )


def candidate_already_bound() -> Problem:
    return Problem(
        409, "candidate_already_bound",
        "该考生的报名信息已绑定到其他通行证账号。如忘记已报名的账号，请通过“找回已报名账号”找回",
        recovery="/account-recovery",
    )


async def _bound_registration(session: AsyncSession, exam_session_id: uuid.UUID, passport_id: str) -> Any:
    return (
        await session.execute(
            select(registrations).where(registrations.c.exam_session_id == exam_session_id, registrations.c.passport_id == passport_id)
        )
    ).first()


async def save(ctx: Eligibility, *, passport_id: str, id_type: IdType, id_number: str, name: str, confirmed: bool) -> dict[str, Any]:
    """E6 保存并继续: inside the window, confirm box ticked → snapshot + binding, RegistrationBound.

    E7 exactly one winner: the two unique constraints of `registrations` decide between
    concurrent saves; the loser's insert fails and it gets a clear answer."""
    if not confirmed:
        raise Problem(422, "confirm_required", "请勾选“我已检查并确认学籍与资格信息正确”")
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        await _require_agreement(ctx, session, passport_id)
        candidate = await find_candidate(session, id_type=id_type, id_number=id_number, name=name)
        if candidate is None:
            raise no_record()
        window = require_open(await current_session(session, now))
        existing = await _bound_registration(session, window.id, passport_id)
        if existing is not None:
            if existing.student_id == candidate.id:
                return _registration_view(existing, window)  # saved before: nothing to do
            raise account_already_bound()
        snapshot = snapshot_of(candidate)
        registration_id = uuid.uuid4()
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(registrations).values(
                        id=registration_id, exam_session_id=window.id, passport_id=passport_id, student_id=candidate.id,
                        snapshot=snapshot, qualification_subjects=candidate.qualification_subjects, saved_at=now,
                    )
                )
        except IntegrityError as exc:
            # Lost the race. A concurrent save of the same pair by the same account is success.
            mine = await _bound_registration(session, window.id, passport_id)
            if mine is not None and mine.student_id == candidate.id:
                return _registration_view(mine, window)
            if "registrations_one_account_per_candidate" in str(exc.orig):
                raise candidate_already_bound() from None
            raise account_already_bound() from None
        # A teacher's CET6 application made before the candidate had an account joins it.
        await session.execute(
            update(cet6_reviews)
            .where(cet6_reviews.c.student_id == candidate.id, cet6_reviews.c.passport_id.is_(None))
            .where(~select(cet6_reviews.c.id).where(cet6_reviews.c.passport_id == passport_id).exists())
            .values(passport_id=passport_id)
        )
        await uow.publish(
            RegistrationBound(
                registration_id=registration_id,
                exam_session_id=window.id,
                passport_id=passport_id,
                snapshot=RegistrationSnapshot.model_validate(snapshot),
                bound_at=now,
            ),
            key=str(registration_id),
        )
        await uow.commit()
        row = (await session.execute(select(registrations).where(registrations.c.id == registration_id))).first()
    return _registration_view(row, window, message="保存成功")


def _registration_view(row: Any, window: SessionWindow, *, message: str | None = None) -> dict[str, Any]:
    page = confirmation_page(row.snapshot, list(row.qualification_subjects))
    # The registration info page shows personal data masked; the candidate confirmed it already.
    page["id_number"] = mask_id_number(page["id_number"])
    return {
        "message": message,
        "registration_id": str(row.id),
        "exam_session": {"id": str(window.row.id), "name": window.row.name},
        "saved_at": row.saved_at,
        "registration": page,
    }


async def my_registration(ctx: Eligibility, *, passport_id: str) -> dict[str, Any]:
    """The caller's own registration in the current session; nobody else's (privacy)."""
    async with ctx.sessions() as session:
        window = await current_session(session, ctx.clock.now())
        row = None if window is None else await _bound_registration(session, window.id, passport_id)
    if row is None or window is None:
        raise Problem(404, "no_registration", "当前通行证账号在本考次没有报名信息")
    return _registration_view(row, window)


async def home(ctx: Eligibility, *, passport_id: str) -> dict[str, Any]:
    """E8: the header's name (姓名: 未设置 until bound) and the start page's 考次 and 报名状态."""
    async with ctx.sessions() as session:
        window = await current_session(session, ctx.clock.now())
        row = None if window is None else await _bound_registration(session, window.id, passport_id)
        agreed = await has_accepted(ctx, session, passport_id)
    return {
        "header_name": row.snapshot["name"] if row is not None else NOT_SET,
        "exam_session_name": window.row.name if window is not None else None,
        "registration_status": "已保存报名信息" if row is not None else "未报名或当前通行证账号非报名时账号",
        "bound": row is not None,
        "agreement_accepted": agreed,
        **_window_view(window),
    }


# -- E9 empty registrations ----------------------------------------------------------------------------

def _active_subjects(registration_id: Any):  # noqa: ANN202
    return (
        select(func.count())
        .select_from(registration_subjects)
        .where(registration_subjects.c.registration_id == registration_id, registration_subjects.c.status.in_(ACTIVE_SUBJECT_STATUSES))
        .scalar_subquery()
    )


async def release_empty_registrations(ctx: Eligibility) -> int:
    """E9: a registration saved longer ago than the lifetime with no active subject is deleted and
    its binding released (RegistrationReleased).

    Race with enrolment: the subject consumer takes the registration's row lock before it records
    a subject; here we lock the rows (SKIP LOCKED: a row being updated is looked at next round)
    and count active subjects again after the lock, in a fresh statement that sees every subject
    committed before we got the lock. Enrolment, on RegistrationReleased, cancels what is still
    unpaid and refuses new subjects; a payment arriving later is refunded (Y4)."""
    cutoff = ctx.clock.now() - ctx.settings.empty_registration_lifetime
    async with ctx.unit_of_work() as uow:
        session = uow.session
        candidates = (
            await session.execute(
                select(registrations.c.id, registrations.c.passport_id)
                .where(registrations.c.saved_at <= cutoff, _active_subjects(registrations.c.id) == 0)
                .order_by(registrations.c.saved_at)
                .limit(ctx.settings.release_batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        released = 0
        for registration in candidates:
            if await session.scalar(select(_active_subjects(registration.id))):
                continue
            await session.execute(delete(registrations).where(registrations.c.id == registration.id))
            await uow.publish(
                RegistrationReleased(registration_id=registration.id, passport_id=registration.passport_id), key=str(registration.id)
            )
            released += 1
        await uow.commit()
    return released


# -- E12 rebinding by support ---------------------------------------------------------------------------

async def find_registrations(ctx: Eligibility, *, id_type: IdType, id_number: str) -> list[dict[str, Any]]:
    """Support finds a caller's registrations by ID; names and numbers come back masked."""
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(registrations, exam_sessions.c.name.label("session_name"))
                .join(exam_sessions, exam_sessions.c.id == registrations.c.exam_session_id)
                .where(registrations.c.snapshot["id_type"].astext == id_type.value)
                .where(registrations.c.snapshot["id_number"].astext == id_number.strip().upper())
                .order_by(exam_sessions.c.registration_opens_at.desc())
            )
        ).all()
    return [
        {
            "registration_id": str(r.id),
            "exam_session": {"id": str(r.exam_session_id), "name": r.session_name},
            "passport_id": r.passport_id,
            "name": mask_name(r.snapshot["name"]),
            "id_number": mask_id_number(r.snapshot["id_number"]),
            "saved_at": r.saved_at,
        }
        for r in rows
    ]


@dataclass(frozen=True)
class Rebound:
    registration_id: uuid.UUID
    old_passport_id: str
    new_passport_id: str


async def rebind(ctx: Eligibility, *, actor: str, registration_id: uuid.UUID, new_passport_id: str, reason: str) -> Rebound:
    """E12 / P8(b): move a registration to another passport account; audited; RegistrationRebound.
    The candidate's CET6 application (bound to the account) moves with it."""
    if not PASSPORT_ID.match(new_passport_id):
        raise Problem(422, "passport_id_invalid", "通行证ID应为32位大写十六进制字符")
    async with ctx.unit_of_work() as uow:
        session = uow.session
        row = (await session.execute(select(registrations).where(registrations.c.id == registration_id).with_for_update())).first()
        if row is None:
            raise Problem(404, "no_registration", "报名信息不存在")
        if row.passport_id == new_passport_id:
            raise Problem(409, "rebind_same_account", "报名信息已绑定在该通行证账号上")
        try:
            async with session.begin_nested():
                await session.execute(update(registrations).where(registrations.c.id == registration_id).values(passport_id=new_passport_id))
        except IntegrityError:
            raise Problem(409, "target_account_bound", "目标通行证账号在该考次已绑定其他考生的报名信息") from None
        has_review = await session.scalar(select(cet6_reviews.c.id).where(cet6_reviews.c.passport_id == new_passport_id))
        if has_review is None:
            await session.execute(
                update(cet6_reviews)
                .where(cet6_reviews.c.passport_id == row.passport_id, cet6_reviews.c.student_id == row.student_id)
                .values(passport_id=new_passport_id)
            )
        await session.execute(
            insert(rebind_audit).values(
                registration_id=registration_id, old_passport_id=row.passport_id, new_passport_id=new_passport_id,
                actor_passport_id=actor, reason=reason, rebound_at=ctx.clock.now(),
            )
        )
        await uow.publish(
            RegistrationRebound(registration_id=registration_id, old_passport_id=row.passport_id, new_passport_id=new_passport_id),
            key=str(registration_id),
        )
        await audit.record(session, "registration.rebound", ("registration", registration_id), before={"passport_id": row.passport_id}, after={"passport_id": new_passport_id, "reason": reason}, candidate=new_passport_id, school=row.snapshot.get("school_code"))
        await uow.commit()
    return Rebound(registration_id, row.passport_id, new_passport_id)

