"""The rules of registry and score files (E13, E1, E10), checked in SQL on the staging table:
every failed rule of every line is reported with its line and field, and nothing is imported."""

from __future__ import annotations

from sqlalchemy import select

from eligibility.db.tables import students
from eligibility.domain.imports import STUDENT_COLUMNS

HEADER = ",".join(STUDENT_COLUMNS)
GOOD = "99,测试省,99101,测试学校,991010,99101-0校区,是,中华人民共和国居民身份证,330101199001010024,廖晓儿,女,专科,6,16,11,化学学院,高分子化学与物理,1,00001,,1;F,否"
CSV = {"content-type": "text/csv"}
SCORE_HEADER = "ticket_number,id_number,name,score,year,half"


def row(**changes: str) -> str:
    values = dict(zip(STUDENT_COLUMNS, GOOD.split(","), strict=True))
    values.update(changes)
    return ",".join(values[c] for c in STUDENT_COLUMNS)


async def errors_of(client, tokens, path: str, text: str) -> list[dict]:
    response = await client.post(path, content=text.encode(), headers={**tokens.headers(None, "ops"), **CSV})
    assert response.status_code == 422 and response.json()["code"] == "import_invalid", response.text
    return response.json()["errors"]


async def test_e13_a_good_row_is_stored_typed(ctx, client, tokens):
    response = await client.post("/registry/students", content=f"{HEADER}\n{GOOD}\n".encode(), headers={**tokens.headers(None, "ops"), **CSV})
    assert response.status_code == 200, response.text
    async with ctx.sessions() as session:
        student = (await session.execute(select(students))).one()
    assert (student.id_type, student.school_code, student.campus_code, student.qualification_subjects) == ("resident_id_card", "99101", "991010", ["1", "F"])
    assert student.cet6_barred is False and student.class_name == "1"


async def test_e13_every_row_error_is_reported_with_row_and_field(client, tokens):
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
    errors = await errors_of(client, tokens, "/registry/students", text)
    found = {(e["row"], e["field"]) for e in errors}
    assert {(2, "province_code"), (3, "school_code"), (4, "campus_code"), (5, "id_number"), (6, "qualification_subjects")} <= found
    assert {"row": 5, "field": "id_number", "message": "居民身份证号码校验位不正确"} in errors
    assert {"row": 6, "field": "qualification_subjects", "message": "未知的科目代码 Z"} in errors


async def test_e1_military_officer_id_is_refused_clearly_in_a_file(client, tokens):
    errors = await errors_of(client, tokens, "/registry/students", f"{HEADER}\n{row(id_type='军官证')}\n")
    assert [(e["field"], e["message"]) for e in errors] == [("id_type", "暂不支持军官证报名，请使用居民身份证等其他有效证件")]


async def test_e13_teacher_scope_and_duplicates(client, tokens):
    response = await client.post(
        "/registry/students", content=f"{HEADER}\n{GOOD}\n{GOOD}\n".encode(), headers={**tokens.headers(None, "teacher", school_code="99301"), **CSV}
    )
    assert response.status_code == 422
    messages = [e["message"] for e in response.json()["errors"]]
    assert "只能导入本校的学籍" in messages
    assert "与第2行的证件重复" in messages


async def test_e13_missing_columns_are_named(client, tokens):
    errors = await errors_of(client, tokens, "/registry/students", "province_code,school_code\n99,99101\n")
    assert {e["field"] for e in errors} >= {"campus_code", "id_type", "id_number", "name"}


async def test_e13_cells_the_quick_check_does_not_clear_are_judged_by_the_rules(ctx, client, tokens):
    """Lower-case words, spaces around cells, CRLF lines, a quoted cell and leading zeros: all valid."""
    odd = row(campus_offers_cet6="YES", cet6_barred="n", qualification_subjects="f，1", program_years="06", name='"廖晓儿"')
    text = f"{HEADER}\r\n{odd.replace(',女,', ', 女 ,')}\r\n"
    response = await client.post("/registry/students", content=text.encode(), headers={**tokens.headers(None, "ops"), **CSV})
    assert response.status_code == 200, response.text
    async with ctx.sessions() as session:
        student = (await session.execute(select(students))).one()
    assert (student.gender, student.qualification_subjects, student.program_years, student.cet6_barred) == ("女", ["1", "F"], "06", False)


async def test_e10_score_rows_check_ticket_year_half_and_range(client, tokens):
    text = "\n".join(
        [
            SCORE_HEADER,
            "993010162100101,99101000001,李博,480,2016,2",
            "993010162100102,99101000001,李博,711,2016,2",
            "993010152100103,99101000001,李博,500,2016,2",  # ticket says 2015
            "993010162100104,99101000001,李博,500,2016,1",  # ticket says December
            "993010162200105,99101000001,李博,500,2016,2",  # subject 2: not CET4
            "99301016210010,99101000001,李博,500,2016,2",
        ]
    )
    errors = await errors_of(client, tokens, "/registry/scores", text)
    assert [(e["row"], e["field"]) for e in errors] == [(3, "score"), (4, "ticket_number"), (5, "ticket_number"), (6, "ticket_number"), (7, "ticket_number")]


async def test_e13_non_ascii_digits_are_row_errors_not_crashes(client, tokens):
    errors = await errors_of(client, tokens, "/registry/students", f"{HEADER}\n{row(program_years='²', school_code='９９１０１')}\n")
    assert {e["field"] for e in errors} >= {"program_years", "school_code"}
    scores = await errors_of(client, tokens, "/registry/scores", f"{SCORE_HEADER}\n993010162100101,1,x,４²,２016,2\n")
    assert {e["field"] for e in scores} == {"score", "year"}


async def test_e13_a_campus_described_two_ways_in_one_file_is_named_at_the_later_line(client, tokens):
    second = row(id_number="990101200001010014", campus_name="另一个名字")
    errors = await errors_of(client, tokens, "/registry/students", f"{HEADER}\n{GOOD}\n{second}\n")
    assert errors == [{"row": 3, "field": "campus_code", "message": "同一校区在文件中的名称或CET6设置不一致"}]
