"""Exam sessions as eligibility knows them, from ExamSessionPublished (E5, E6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.problems import Problem
from eligibility.db.tables import exam_sessions


class WindowState(StrEnum):
    BEFORE = "before"  # E5: the confirmation page can be viewed, nothing is saved or bound
    OPEN = "open"  # E6: save and continue
    CLOSED = "closed"


@dataclass(frozen=True)
class SessionWindow:
    row: Any
    state: WindowState

    @property
    def id(self):  # noqa: ANN201
        return self.row.id


async def current_session(session: AsyncSession, now: datetime) -> SessionWindow | None:
    """The session whose window is open; else the next to open; else the last one that closed."""
    rows = (await session.execute(select(exam_sessions).order_by(exam_sessions.c.registration_opens_at))).all()
    open_ = [r for r in rows if r.registration_opens_at <= now < r.registration_closes_at]
    if open_:
        return SessionWindow(open_[-1], WindowState.OPEN)
    upcoming = [r for r in rows if r.registration_opens_at > now]
    if upcoming:
        return SessionWindow(upcoming[0], WindowState.BEFORE)
    if rows:
        return SessionWindow(max(rows, key=lambda r: r.registration_closes_at), WindowState.CLOSED)
    return None


def require_open(window: SessionWindow | None) -> SessionWindow:
    if window is None:
        raise Problem(409, "no_exam_session", "当前没有考次，暂不能报名")
    if window.state is WindowState.BEFORE:
        raise Problem(409, "registration_not_open", "未到考生网上报名开始时间，目前只能查看资格信息，不能保存")
    if window.state is WindowState.CLOSED:
        raise Problem(409, "registration_closed", "考生网上报名时间已结束")
    return window
