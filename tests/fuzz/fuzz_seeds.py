"""The data seeded before fuzzing, so that requests carrying a valid token reach past "not found"
into the use cases: the candidate's registration snapshot and enrolment's open exam session."""

from __future__ import annotations

from datetime import datetime, timedelta

from fuzz_targets import SCHOOL

from cet_shared.events.contracts import RegistrationSnapshot


def candidate_snapshot(qualification_subjects: list[str]) -> RegistrationSnapshot:
    """The fuzzed candidate as eligibility binds her: school 99301, campus 993010."""
    return RegistrationSnapshot(
        name="廖晓儿",
        gender="女",
        id_type="resident_id_card",
        id_number="110105200001011234",
        province_code="99",
        school_code=SCHOOL,
        school_name="测试学校机构01",
        campus_code="993010",
        campus_name="测试校区机构001",
        qualification_subjects=qualification_subjects,
    )


def enrolment_session(now: datetime) -> dict:
    """A published, open exam session: the candidate's campus 993010 (school 99301, whose candidates
    may take orals elsewhere) and campus 991010 of school 99101 with limited oral seats."""
    window = {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=8)}
    return {
        "name": "2017年上半年CET考试",
        "year": 2017,
        "half": 1,
        "registration": {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=10)},
        "written_exam_date": (now + timedelta(days=30)).date(),
        "oral_exam_dates": {"F": (now + timedelta(days=20)).date(), "S": (now + timedelta(days=21)).date()},
        "written_tickets": {"opens_at": now + timedelta(days=12), "closes_at": now + timedelta(days=30)},
        "oral_tickets": {"opens_at": now + timedelta(days=11), "closes_at": now + timedelta(days=20)},
        "notices": [
            {"scope": "registration_notes", "title": "报考须知", "body": "所有已报考科目如果24小时内未支付，将会被系统自动删除"},
            {"scope": "province", "province_code": "99", "title": "(99)测试省", "body": "一、遵守时间"},
            {"scope": "school", "school_code": "99101", "title": "(99101)测试学校通告", "body": "口试请提前到达"},
        ],
        "school_oral_settings": [{"school_code": SCHOOL, "allow_other_schools": True}],
        "campuses": [
            {
                "province_code": "99",
                "school_code": "99101",
                "school_name": "测试学校",
                "campus_code": "991010",
                "campus_name": "99101-0校区",
                "accepts_other_schools": True,
                "offerings": [
                    {"subject": "1", "fee_fen": 1},
                    {"subject": "F", "fee_fen": 1, "capacity": 5, **window},
                    {"subject": "S", "fee_fen": 1, "capacity": 1, **window},
                ],
            },
            {
                "province_code": "99",
                "school_code": SCHOOL,
                "school_name": "测试学校机构01",
                "campus_code": "993010",
                "campus_name": "测试校区机构001",
                "offerings": [{"subject": code, "fee_fen": 1} for code in ("1", "2", "3", "4")] + [{"subject": "F", "fee_fen": 1, "capacity": 2, **window}],
            },
        ],
    }
