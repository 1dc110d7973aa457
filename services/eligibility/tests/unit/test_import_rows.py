"""Pure validation of registry and score files (E13, E1, E10)."""

from __future__ import annotations

from eligibility.domain.imports import STUDENT_COLUMNS, parse_scores, parse_students

HEADER = ",".join(STUDENT_COLUMNS)
GOOD = "99,测试省,99101,测试学校,991010,99101-0校区,是,中华人民共和国居民身份证,330101199001010024,廖晓儿,女,专科,6,16,11,化学学院,高分子化学与物理,1,00001,,1;F,否"


def row(**changes: str) -> str:
    values = dict(zip(STUDENT_COLUMNS, GOOD.split(","), strict=True))
    values.update(changes)
    return ",".join(values[c] for c in STUDENT_COLUMNS)


def test_e13_a_good_row_parses():
    parsed = parse_students(f"{HEADER}\n{GOOD}\n")
    assert parsed.errors == []
    (student,) = parsed.rows
    assert (student.id_type, student.school_code, student.campus_code, student.qualification_subjects) == ("resident_id_card", "99101", "991010", ["1", "F"])


def test_e13_every_row_error_is_reported_with_row_and_field():
    text = "\n".join(
        [
            HEADER,
            row(province_code="9"),
            row(school_code="9910", id_number="990101200001010014"),
            row(campus_code="981010", id_number="990101200102020043"),
            row(id_number="330101199001010025"),  # wrong checksum
            row(qualification_subjects="1;Z", id_number="99101000001", id_type="澳门身份证"),
        ]
    )
    parsed = parse_students(text)
    found = {(e.row, e.field) for e in parsed.errors}
    assert {(2, "province_code"), (3, "school_code"), (4, "campus_code"), (5, "id_number"), (6, "qualification_subjects")} <= found
    assert parsed.rows == []


def test_e1_military_officer_id_is_refused_clearly_in_a_file():
    parsed = parse_students(f"{HEADER}\n{row(id_type='军官证')}\n")
    assert [(e.field, e.message) for e in parsed.errors] == [("id_type", "暂不支持军官证报名，请使用居民身份证等其他有效证件")]


def test_e13_teacher_scope_and_duplicates():
    parsed = parse_students(f"{HEADER}\n{GOOD}\n{GOOD}\n", school_scope="99301")
    messages = [e.message for e in parsed.errors]
    assert "只能导入本校的学籍" in messages
    assert any("重复" in m for m in messages)


def test_e13_missing_columns_are_named():
    parsed = parse_students("province_code,school_code\n99,99101\n")
    assert {e.field for e in parsed.errors} >= {"campus_code", "id_type", "id_number", "name"}


def test_e10_score_rows_check_ticket_year_half_and_range():
    text = "\n".join(
        [
            "ticket_number,id_number,name,score,year,half",
            "993010162100101,99101000001,李博,480,2016,2",
            "993010162100102,99101000001,李博,711,2016,2",
            "993010152100103,99101000001,李博,500,2016,2",  # ticket says 2015
            "993010162100104,99101000001,李博,500,2016,1",  # ticket says December
            "993010162200105,99101000001,李博,500,2016,2",  # subject 2: not CET4
            "99301016210010,99101000001,李博,500,2016,2",
        ]
    )
    parsed = parse_scores(text, current_year=2017)
    assert len(parsed.rows) == 1
    assert [(e.row, e.field) for e in parsed.errors] == [(3, "score"), (4, "ticket_number"), (5, "ticket_number"), (6, "ticket_number"), (7, "ticket_number")]


def test_e13_non_ascii_digits_are_row_errors_not_crashes():
    parsed = parse_students(f"{HEADER}\n{row(program_years='²', school_code='９９１０１')}\n")
    assert {e.field for e in parsed.errors} >= {"program_years", "school_code"}
    scores = parse_scores("ticket_number,id_number,name,score,year,half\n993010162100101,1,x,４²,２016,2\n", current_year=2017)
    assert {e.field for e in scores.errors} == {"score", "year"}
