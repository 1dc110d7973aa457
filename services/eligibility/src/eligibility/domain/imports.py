"""Registry and score files (E13, E10): parsing and validating every row. Pure.

A file is all or nothing: `parse_*` return the rows and every row's errors; the service imports
only when there are none. Errors name the row (the line in the file, header = 1), the column and
the reason, never the rejected value (it may be personal data).
"""

from __future__ import annotations

from dataclasses import dataclass

from cet_shared.id_types import IdType, parse_id_type, resident_id_checksum_ok
from cet_shared.problems import Problem
from eligibility.domain.codes import (
    CAMPUS_CODE,
    PROVINCE_CODE,
    SCHOOL_CODE,
    TicketNumberInvalid,
    parse_subjects,
    parse_ticket_number,
)
from eligibility.domain.csv_rows import ID_NUMBER, Parsed, RowError, digits, read_rows, text_cell, yes_no

STUDENT_COLUMNS = (
    "province_code",
    "province_name",
    "school_code",
    "school_name",
    "campus_code",
    "campus_name",
    "campus_offers_cet6",
    "id_type",
    "id_number",
    "name",
    "gender",
    "education_level",
    "program_years",
    "entry_year",
    "grade",
    "department",
    "major",
    "class",
    "student_number",
    "remarks",
    "qualification_subjects",
    "cet6_barred",
)
STUDENT_REQUIRED = ("province_code", "school_code", "campus_code", "id_type", "id_number", "name", "gender", "qualification_subjects")
SCORE_COLUMNS = ("ticket_number", "id_number", "name", "score", "year", "half")

GENDERS = ("男", "女")
EDUCATION_LEVELS = ("专科", "本科", "研究生")


@dataclass
class StudentRow:
    row: int
    province_code: str
    province_name: str
    school_code: str
    school_name: str
    campus_code: str
    campus_name: str
    campus_offers_cet6: bool
    id_type: str
    id_number: str
    name: str
    gender: str
    education_level: str
    program_years: str
    entry_year: str
    grade: str
    department: str
    major: str
    class_name: str
    student_number: str
    remarks: str
    qualification_subjects: list[str]
    cet6_barred: bool


@dataclass
class ScoreRow:
    row: int
    ticket_number: str
    id_number: str
    name: str
    score: int
    year: int
    half: int


def validate_id(id_type_value: str, id_number: str, errors: list[RowError], row: int) -> str:
    """The ID type (E1, 军官证 refused) and, for the resident ID card, the GB 11643 checksum."""
    try:
        id_type = parse_id_type(id_type_value)
    except Problem as problem:
        errors.append(RowError(row, "id_type", problem.title))
        return ""
    if not id_number:
        errors.append(RowError(row, "id_number", "不能为空"))
    elif not ID_NUMBER.match(id_number.upper()):
        errors.append(RowError(row, "id_number", "证件号码格式不正确"))
    elif id_type == IdType.RESIDENT_ID_CARD and not resident_id_checksum_ok(id_number):
        errors.append(RowError(row, "id_number", "居民身份证号码校验位不正确"))
    return id_type.value


def parse_students(text: str, *, school_scope: str | None = None) -> Parsed[StudentRow]:
    """E13. `school_scope`: a teacher may import only their own school's students."""
    records, errors = read_rows(text, STUDENT_COLUMNS, STUDENT_REQUIRED)
    result: Parsed[StudentRow] = Parsed(errors=errors)
    seen: dict[tuple[str, str], int] = {}
    campus_names: dict[str, tuple[str, str, bool]] = {}
    for row, v in records:
        errs: list[RowError] = []
        province, school, campus = v.get("province_code", ""), v.get("school_code", ""), v.get("campus_code", "")
        if not PROVINCE_CODE.match(province):
            errs.append(RowError(row, "province_code", "省份代码应为2位数字"))
        if not SCHOOL_CODE.match(school):
            errs.append(RowError(row, "school_code", "学校代码应为5位数字"))
        elif PROVINCE_CODE.match(province) and not school.startswith(province):
            errs.append(RowError(row, "school_code", "学校代码的前2位应为省份代码"))
        elif school_scope is not None and school != school_scope:
            errs.append(RowError(row, "school_code", "只能导入本校的学籍"))
        if not CAMPUS_CODE.match(campus):
            errs.append(RowError(row, "campus_code", "校区代码应为6位数字"))
        elif SCHOOL_CODE.match(school) and not campus.startswith(school):
            errs.append(RowError(row, "campus_code", "校区代码的前5位应为学校代码"))
        offers = yes_no(v.get("campus_offers_cet6", ""))
        if offers is None:
            errs.append(RowError(row, "campus_offers_cet6", "应为 是/否"))
        barred = yes_no(v.get("cet6_barred", ""))
        if barred is None:
            errs.append(RowError(row, "cet6_barred", "应为 是/否"))
        id_type = validate_id(v.get("id_type", ""), v.get("id_number", ""), errs, row)
        id_number = v.get("id_number", "").upper()
        name = text_cell(v, "name", errs, row, required=True, max_len=60)
        gender = v.get("gender", "")
        if gender not in GENDERS:
            errs.append(RowError(row, "gender", "性别应为 男 或 女"))
        education = v.get("education_level", "")
        if education and education not in EDUCATION_LEVELS:
            errs.append(RowError(row, "education_level", "学历应为 专科、本科 或 研究生"))
        program_years = v.get("program_years", "")
        if program_years and not (digits(program_years) and 1 <= int(program_years) <= 9):
            errs.append(RowError(row, "program_years", "学制应为1到9的数字"))
        entry_year = v.get("entry_year", "")
        if entry_year and not (digits(entry_year) and len(entry_year) in (2, 4)):
            errs.append(RowError(row, "entry_year", "入学年份应为2位或4位数字"))
        try:
            subjects = parse_subjects(v.get("qualification_subjects", ""))
            if not subjects:
                errs.append(RowError(row, "qualification_subjects", "不能为空"))
        except ValueError as exc:
            subjects = []
            errs.append(RowError(row, "qualification_subjects", str(exc)))
        texts = {
            name_: text_cell(v, name_, errs, row, required=False, max_len=limit)
            for name_, limit in (
                ("province_name", 40),
                ("school_name", 60),
                ("campus_name", 60),
                ("grade", 10),
                ("department", 60),
                ("major", 60),
                ("class", 30),
                ("student_number", 30),
                ("remarks", 200),
            )
        }
        if id_type:
            key = (id_type, id_number)
            if key in seen:
                errs.append(RowError(row, "id_number", f"与第{seen[key]}行的证件重复"))
            else:
                seen[key] = row
        if CAMPUS_CODE.match(campus):
            described = (texts["campus_name"], texts["school_name"], bool(offers))
            if campus in campus_names and campus_names[campus] != described:
                errs.append(RowError(row, "campus_code", "同一校区在文件中的名称或CET6设置不一致"))
            campus_names.setdefault(campus, described)
        if errs:
            result.errors.extend(errs)
            continue
        result.rows.append(
            StudentRow(
                row=row,
                province_code=province,
                province_name=texts["province_name"],
                school_code=school,
                school_name=texts["school_name"],
                campus_code=campus,
                campus_name=texts["campus_name"],
                campus_offers_cet6=bool(offers),
                id_type=id_type,
                id_number=id_number,
                name=name,
                gender=gender,
                education_level=education,
                program_years=program_years,
                entry_year=entry_year,
                grade=texts["grade"],
                department=texts["department"],
                major=texts["major"],
                class_name=texts["class"],
                student_number=texts["student_number"],
                remarks=texts["remarks"],
                qualification_subjects=subjects,
                cet6_barred=bool(barred),
            )
        )
    return result


def parse_scores(text: str, *, current_year: int) -> Parsed[ScoreRow]:
    """CET4 written score records used by the CET6 review (E10)."""
    records, errors = read_rows(text, SCORE_COLUMNS, SCORE_COLUMNS)
    result: Parsed[ScoreRow] = Parsed(errors=errors)
    seen: dict[str, int] = {}
    for row, v in records:
        errs: list[RowError] = []
        ticket = None
        try:
            ticket = parse_ticket_number(v["ticket_number"])
            if not ticket.is_written_cet4:
                errs.append(RowError(row, "ticket_number", "应为英语四级笔试准考证号（第10位科目代码为1）"))
        except TicketNumberInvalid as exc:
            errs.append(RowError(row, "ticket_number", str(exc)))
        id_number = v["id_number"].upper()
        if not ID_NUMBER.match(id_number):
            errs.append(RowError(row, "id_number", "证件号码格式不正确"))
        name = text_cell(v, "name", errs, row, required=True, max_len=60)
        score = int(v["score"]) if digits(v["score"]) and len(v["score"]) <= 4 else -1
        if not 0 <= score <= 710:
            errs.append(RowError(row, "score", "成绩应为0到710的整数"))
        year = int(v["year"]) if digits(v["year"]) and len(v["year"]) == 4 else -1
        if not 1987 <= year <= current_year:
            errs.append(RowError(row, "year", f"考试年份应在1987到{current_year}之间"))
        half = int(v["half"]) if v["half"] in ("1", "2") else -1
        if half == -1:
            errs.append(RowError(row, "half", "考试半年应为1（6月）或2（12月）"))
        if ticket and not ticket.oral and year > 0 and ticket.year_2 != f"{year % 100:02d}":
            errs.append(RowError(row, "ticket_number", "准考证号第7–8位与考试年份不一致"))
        if ticket and not ticket.oral and half > 0 and ticket.half != half:
            errs.append(RowError(row, "ticket_number", "准考证号第9位与考试半年不一致"))
        if ticket:
            if ticket.value in seen:
                errs.append(RowError(row, "ticket_number", f"与第{seen[ticket.value]}行的准考证号重复"))
            seen.setdefault(ticket.value, row)
        if errs:
            result.errors.extend(errs)
            continue
        assert ticket is not None
        result.rows.append(ScoreRow(row, ticket.value, id_number, name, score, year, half))
    return result
