"""Turning a domain refusal into the RFC 9457 answer the client reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cet_shared.problems import Problem
from enrolment.domain.rules import Refusal


def problem(refusal: Refusal) -> Problem:
    return Problem(refusal.status, refusal.code, refusal.title)


@contextmanager
def refusals_as_problems() -> Iterator[None]:
    try:
        yield
    except Refusal as refusal:
        raise problem(refusal) from None


def registration_not_found() -> Problem:
    return Problem(404, "registration_not_found", "未找到报名信息，请先完成资格信息确认并保存报名信息")


def session_not_found() -> Problem:
    return Problem(404, "exam_session_not_found", "考次不存在")


def offering_not_found() -> Problem:
    return Problem(404, "offering_not_found", "报名校区科目不存在")


def enrolment_not_found() -> Problem:
    return Problem(404, "enrolment_not_found", "报考科目不存在")
