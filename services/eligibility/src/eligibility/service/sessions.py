"""Exam sessions as eligibility knows them, from ExamSessionPublished (E5, E6)."""

from __future__ import annotations

from datetime import datetime

from cet_shared.problems import Problem
from eligibility.domain.model import SessionWindow, WindowState, current_window
from eligibility.service.ports import EligibilityUnitOfWork


async def current_session(uow: EligibilityUnitOfWork, now: datetime) -> SessionWindow | None:
    return current_window(await uow.exam_sessions.all(), now)


def require_open(window: SessionWindow | None) -> SessionWindow:
    if window is None:
        raise Problem(409, "no_exam_session", "当前没有考次，暂不能报名")
    if window.state is WindowState.BEFORE:
        raise Problem(409, "registration_not_open", "未到考生网上报名开始时间，目前只能查看资格信息，不能保存")
    if window.state is WindowState.CLOSED:
        raise Problem(409, "registration_closed", "考生网上报名时间已结束")
    return window
