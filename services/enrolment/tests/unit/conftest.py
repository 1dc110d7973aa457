"""Builders for the unit tier: typed offerings and candidate contexts, no database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enrolment.domain.context import CandidateContext, Offering, OralSetting, active_from_codes

NOW = datetime(2017, 11, 1, 2, 0, tzinfo=UTC)
SESSION = uuid.UUID(int=1)


def offering(**overrides: Any) -> Offering:
    base = Offering(
        id=uuid.uuid4(),
        exam_session_id=SESSION,
        subject_code="F",
        province_code="99",
        school_code="99101",
        school_name="测试学校",
        campus_code="991010",
        campus_name="99101-0校区",
        fee_fen=5000,
        capacity=30,
        remaining=30,
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=1),
        accepts_other_schools=True,
    )
    return replace(base, **overrides)


def context(*, active: tuple[str, ...] = ("1",), setting: OralSetting | None = OralSetting(True, None), **overrides: Any) -> CandidateContext:
    """A candidate of school 99301 (orals elsewhere allowed), English 4 written held."""
    base = CandidateContext(
        registration_id=uuid.uuid4(),
        exam_session_id=SESSION,
        passport_id=uuid.uuid4().hex,
        province_code="99",
        school_code="99301",
        campus_code="993010",
        qualification_subjects=("1", "3", "4", "F"),
        notices_acknowledged_at=NOW - timedelta(hours=1),
        released_at=None,
        registration_opens_at=NOW - timedelta(days=1),
        registration_closes_at=NOW + timedelta(days=10),
        published_at=NOW - timedelta(days=1),
        oral_exam_dates={"F": "2017-12-20"},
        oral_setting=setting,
        active=active_from_codes(active),
        fingerprint="v1",
    )
    return replace(base, **overrides)


@pytest.fixture
def make_offering():
    return offering


@pytest.fixture
def make_context():
    return context
