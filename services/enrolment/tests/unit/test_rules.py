"""Pure enrolment rules: no database, milliseconds."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from enrolment.domain.context import Active, Offering, OralSetting
from enrolment.domain.refusals import Refusal
from enrolment.domain.rules import (
    campus_allowed,
    check_oral,
    check_written,
    flow_steps,
    payment_summary,
    room_and_seat,
    ticket_number,
)
from enrolment.domain.seats import capacity_colour, capacity_label
from enrolment.domain.subjects import SUBJECTS, normalise_codes
from enrolment.service.session_specs import resolve_relative

NOW = datetime(2017, 11, 1, 2, 0, tzinfo=UTC)


def OfferingView(subject: str, fee_fen: int | None, capacity: int | None, remaining: int | None, opens_at, closes_at) -> Offering:
    """An offering that differs only in what check_oral reads."""
    return Offering(uuid.uuid4(), uuid.uuid4(), subject, "99", "99101", "测试学校", "991010", "校区", fee_fen, capacity, remaining, opens_at, closes_at, True)


OPEN = OfferingView("F", 5000, 30, 30, NOW - timedelta(days=1), NOW + timedelta(days=1))
QUALIFIED = ["1", "3", "4", "F"]


def refusal(call) -> str:
    with pytest.raises(Refusal) as caught:
        call()
    return caught.value.code


def test_n2_subject_codes_names_levels_and_only_english_orals() -> None:
    assert {c: (s.name, s.level) for c, s in SUBJECTS.items() if s.kind == "written"} == {
        "1": ("英语四级", 4),
        "2": ("英语六级", 6),
        "3": ("日语四级", 4),
        "4": ("日语六级", 6),
        "5": ("德语四级", 4),
        "6": ("德语六级", 6),
        "7": ("俄语四级", 4),
        "8": ("俄语六级", 6),
        "9": ("法语四级", 4),
    }
    orals = {c: s for c, s in SUBJECTS.items() if s.kind == "oral"}
    assert {c: (s.name, s.level, s.language) for c, s in orals.items()} == {"F": ("英语四级口试", 4, "英语"), "S": ("英语六级口试", 6, "英语")}
    assert normalise_codes(["英语四级笔试", "英语四级口试", "日语六级笔试", "2", "s", "军官证"]) == ["1", "F", "4", "2", "S"]


def test_n4_only_qualification_subjects() -> None:
    assert refusal(lambda: check_written(SUBJECTS["2"], QUALIFIED, [])) == "not_qualified"
    check_written(SUBJECTS["1"], QUALIFIED, [])


def test_n5_one_written_per_level() -> None:
    taken = [Active("1", "written", 4)]
    assert refusal(lambda: check_written(SUBJECTS["3"], QUALIFIED, taken)) == "one_per_level"
    assert refusal(lambda: check_written(SUBJECTS["1"], QUALIFIED, taken)) == "already_enrolled"
    check_written(SUBJECTS["4"], QUALIFIED, taken)
    check_written(SUBJECTS["3"], QUALIFIED, [Active("F", "oral", 4)])  # an oral is not a written subject


def test_n6_oral_needs_same_level_english_written() -> None:
    assert refusal(lambda: check_oral(SUBJECTS["F"], QUALIFIED, [], exam_date=date(2017, 5, 20), offering=OPEN, now=NOW)) == "written_first"
    assert (
        refusal(lambda: check_oral(SUBJECTS["F"], QUALIFIED, [Active("3", "written", 4)], exam_date=date(2017, 5, 20), offering=OPEN, now=NOW))
        == "written_first"
    )
    check_oral(SUBJECTS["F"], QUALIFIED, [Active("1", "written", 4)], exam_date=date(2017, 5, 20), offering=OPEN, now=NOW)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"qualified": ["1"]}, "not_qualified"),
        ({"active": []}, "written_first"),
        ({"exam_date": None}, "exam_date_not_set"),
        ({"offering": OfferingView("F", 5000, 30, 30, NOW + timedelta(hours=1), None)}, "campus_not_open"),
        ({"offering": OfferingView("F", 5000, 30, 30, None, NOW)}, "campus_not_open"),
        ({"offering": OfferingView("F", None, 30, 30, None, None)}, "fee_not_set"),
        ({"offering": OfferingView("F", 0, 30, 30, None, None)}, "fee_not_set"),
        ({"offering": OfferingView("F", 5000, 30, 0, None, None)}, "seats_full"),
        ({"active": [Active("1", "written", 4), Active("F", "oral", 4)]}, "already_enrolled"),
    ],
)
def test_n9_every_oral_condition(change: dict, code: str) -> None:
    args = {"qualified": QUALIFIED, "active": [Active("1", "written", 4)], "exam_date": date(2017, 5, 20), "offering": OPEN} | change
    assert (
        refusal(lambda: check_oral(SUBJECTS["F"], args["qualified"], args["active"], exam_date=args["exam_date"], offering=args["offering"], now=NOW)) == code
    )


def test_n11_colours_green_above_half_yellow_at_half_or_below_red_when_full() -> None:
    assert [capacity_colour(30, r) for r in (30, 16, 15, 1, 0)] == ["green", "green", "yellow", "yellow", "red"]
    assert capacity_colour(5, 3) == "green" and capacity_colour(5, 2) == "yellow"
    assert capacity_label(30, 0) == "无" and capacity_label(30, 7) == "7" and capacity_label(None, None) == "不限"


def test_n13_ticket_numbers_follow_the_e10_structure() -> None:
    written = ticket_number(province_code="99", school_code="99101", campus_code="991010", year=2017, half=1, subject_code="1", room=12, seat=7)
    assert written == "991010171101207" and len(written) == 15 and written.isdigit()
    assert (written[0:2], written[2:5], written[5], written[6:8], written[8], written[9], written[10:13], written[13:15]) == (
        "99",
        "101",
        "0",
        "17",
        "1",
        "1",
        "012",
        "07",
    )
    oral = ticket_number(province_code="99", school_code="99301", campus_code="993010", year=2017, half=2, subject_code="S", room=1, seat=30)
    assert oral == "S99301017200130" and len(oral) == 15 and oral[1:].isdigit()
    assert [room_and_seat(i, 30) for i in (0, 29, 30, 61)] == [(1, 1), (1, 30), (2, 1), (3, 2)]
    with pytest.raises(ValueError):
        ticket_number(province_code="99", school_code="99101", campus_code="991010", year=2017, half=3, subject_code="1", room=1, seat=1)


def test_n12_payment_summary_and_flow() -> None:
    assert payment_summary([]) == ("全未支付", 0)
    assert payment_summary([(1, False), (1, False)]) == ("全未支付", 2)
    assert payment_summary([(1, True), (3000, False)]) == ("部分支付", 3000)
    assert payment_summary([(1, True)]) == ("全部支付", 0)
    exam = NOW + timedelta(days=30)
    steps = flow_steps(
        written=[(True, True)], oral=[], now=NOW, written_tickets_open=True, written_exam_day_start=exam, last_exam_day_end=exam + timedelta(days=1)
    )
    assert [(s.name, s.state) for s in steps] == [
        ("口试缴费(选)", "未完成"),
        ("完成报名", "已完成"),
        ("打印笔试准考证", "可打印"),
        ("参加考试", "未开始"),
        ("结束", "未结束"),
    ]
    after = flow_steps(
        written=[(True, True)],
        oral=[(True, False)],
        now=exam + timedelta(days=2),
        written_tickets_open=False,
        written_exam_day_start=exam,
        last_exam_day_end=exam + timedelta(days=1),
    )
    assert [s.state for s in after] == ["已完成", "已完成", "不可打印", "已开始", "已结束"]


def test_n1_relative_times_in_session_files() -> None:
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    resolved = resolve_relative({"a": "now-1d", "b": ["today+30d", "today+1d@09:30"], "c": "2017-05-20", "d": 3}, now)
    assert resolved["a"] == "2026-11-26T10:00:00+08:00"
    assert resolved["b"] == ["2026-12-27", "2026-11-28T09:30:00+08:00"]
    assert resolved["c"] == "2017-05-20" and resolved["d"] == 3


def test_n10_oral_campus_allowed(make_context, make_offering) -> None:
    me = make_context(province_code="99", school_code="99301", campus_code="993010", setting=OralSetting(True, None))
    campus = make_offering(province_code="99", school_code="99101", campus_code="991010", accepts_other_schools=True)
    fixed = make_context(province_code="99", school_code="99301", campus_code="993010", setting=OralSetting(False, None))
    unset = make_context(province_code="99", school_code="99301", campus_code="993010", setting=None)
    own = make_offering(school_code="99301", campus_code="993010", accepts_other_schools=False)
    assert campus_allowed(me, campus)
    assert not campus_allowed(fixed, campus) and not campus_allowed(unset, campus)  # no choice: own campus only
    assert campus_allowed(fixed, own) and campus_allowed(unset, own)
    assert not campus_allowed(me, make_offering(school_code="99101", campus_code="991010", accepts_other_schools=False))
    listed = make_context(province_code="99", school_code="99301", campus_code="993010", setting=OralSetting(True, ("993010",)))
    assert not campus_allowed(listed, campus) and campus_allowed(listed, own)
    assert not campus_allowed(me, make_offering(province_code="11", school_code="11101", campus_code="111010"))
