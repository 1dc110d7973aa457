"""The rules of a registry or score file (E13, E1, E10) as set-based SQL on the staging table.

Each rule is one `(order, field, reason)` row of a LATERAL list, NULL when the cell is fine: one
statement checks a batch of lines and writes every failed rule to `import_errors`, so a million
rows cost PostgreSQL's regular expressions, not a Python loop. The reasons are the Chinese texts
the importer reads; the values themselves are never echoed (they may be personal data). The
constants (ID types, subjects, yes/no words) come from domain/ so there is one list of each.
"""

# ruff: noqa: S608 — the statements are built once from domain/ constants; every value of a file is a bound parameter or a staged cell.
from __future__ import annotations

from collections.abc import Iterable

from cet_shared.id_types import ID_TYPE_LABELS, MILITARY_OFFICER_ID, IdType
from eligibility.domain.codes import SUBJECT_ORDER
from eligibility.domain.csv_rows import NO_WORDS, YES_WORDS
from eligibility.domain.imports import EDUCATION_LEVELS, GENDERS


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: Iterable[str]) -> str:
    return "(" + ", ".join(_lit(v) for v in sorted(values)) + ")"


_ID_TYPE_PAIRS = [(t.value, t.value) for t in IdType] + [(label, t.value) for t, label in ID_TYPE_LABELS.items()]
# What a file may write as the ID type (the code or the label) and what is stored.
ID_TYPES = "(VALUES " + ", ".join(f"({_lit(a)}, {_lit(b)})" for a, b in _ID_TYPE_PAIRS) + ") AS t(given, canonical)"
_SUBJECTS = "".join(SUBJECT_ORDER)  # one character each: 1-9, F, S
_SEP = "[;,，；[:space:]|]"
_KNOWN_SUBJECTS = f"'^{_SEP}*[{_SUBJECTS}]({_SEP}+[{_SUBJECTS}])*{_SEP}*$'"


def yes_no(cell: str) -> str:
    """The word as written first: lower() follows the locale and costs more than the comparison."""
    yes, no = _list(YES_WORDS), _list(NO_WORDS)
    return (
        f"(CASE WHEN {cell} IN {yes} THEN true WHEN {cell} IN {no} THEN false WHEN lower({cell}) IN {yes} THEN true WHEN lower({cell}) IN {no} THEN false END)"
    )


def _resident_id_ok(n: str) -> str:
    """GB 11643-1999: 17 digits weighted, the check character from 10X98765432 (CASE guards the casts)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = " + ".join(f"substr({n}, {i + 1}, 1)::int * {w}" for i, w in enumerate(weights))
    return f"(CASE WHEN {n} ~ '^[0-9]{{17}}[0-9Xx]$' THEN substr('10X98765432', ({total}) % 11 + 1, 1) = upper(substr({n}, 18, 1)) ELSE false END)"


def _text(order: int, column: str, field: str, limit: int) -> str:
    return f"({order}, {_lit(field)}, CASE WHEN length(r.{column}) > {limit} THEN '长度不能超过{limit}' END)"


# -- students ------------------------------------------------------------------------------------

_P_OK, _S_OK, _C_OK = "r.province_code ~ '^[0-9]{2}$'", "r.school_code ~ '^[0-9]{5}$'", "r.campus_code ~ '^[0-9]{6}$'"
_SUBJECT_ERROR = f"""CASE WHEN upper(r.qualification_subjects) ~ {_KNOWN_SUBJECTS}
        THEN CASE WHEN upper(r.qualification_subjects) ~ '([{_SUBJECTS}]).*\\1' THEN '科目代码重复' END
    ELSE coalesce(
        (SELECT '未知的科目代码 ' || c FROM regexp_split_to_table(upper(r.qualification_subjects), '{_SEP}+') WITH ORDINALITY s(c, o)
         WHERE c <> '' AND NOT c = ANY (ARRAY[{", ".join(_lit(s) for s in SUBJECT_ORDER)}]) ORDER BY o LIMIT 1),
        '不能为空')
    END"""
_STUDENT_RULES = f"""
    (1, 'province_code', CASE WHEN NOT {_P_OK} THEN '省份代码应为2位数字' END),
    (2, 'school_code', CASE WHEN NOT {_S_OK} THEN '学校代码应为5位数字'
        WHEN {_P_OK} AND left(r.school_code, 2) <> r.province_code THEN '学校代码的前2位应为省份代码'
        WHEN :scope <> '' AND r.school_code <> :scope THEN '只能导入本校的学籍' END),
    (3, 'campus_code', CASE WHEN NOT {_C_OK} THEN '校区代码应为6位数字'
        WHEN {_S_OK} AND left(r.campus_code, 5) <> r.school_code THEN '校区代码的前5位应为学校代码' END),
    (4, 'campus_offers_cet6', CASE WHEN {yes_no("r.campus_offers_cet6")} IS NULL THEN '应为 是/否' END),
    (5, 'cet6_barred', CASE WHEN {yes_no("r.cet6_barred")} IS NULL THEN '应为 是/否' END),
    (6, 'id_type', CASE WHEN t.canonical IS NOT NULL THEN NULL
        WHEN r.id_type IN {_list(MILITARY_OFFICER_ID)} THEN '暂不支持军官证报名，请使用居民身份证等其他有效证件' ELSE '证件类型不正确' END),
    (7, 'id_number', CASE WHEN t.canonical IS NULL THEN NULL WHEN r.id_number = '' THEN '不能为空'
        WHEN upper(r.id_number) !~ '^[0-9A-Z()]{{1,32}}$' THEN '证件号码格式不正确'
        WHEN t.canonical = 'resident_id_card' AND NOT {_resident_id_ok("r.id_number")} THEN '居民身份证号码校验位不正确' END),
    (8, 'name', CASE WHEN r.name = '' THEN '不能为空' WHEN length(r.name) > 60 THEN '长度不能超过60' END),
    (9, 'gender', CASE WHEN r.gender NOT IN {_list(GENDERS)} THEN '性别应为 男 或 女' END),
    (10, 'education_level', CASE WHEN r.education_level <> '' AND r.education_level NOT IN {_list(EDUCATION_LEVELS)}
        THEN '学历应为 专科、本科 或 研究生' END),
    (11, 'program_years', CASE WHEN r.program_years <> '' AND r.program_years !~ '^0*[1-9]$' THEN '学制应为1到9的数字' END),
    (12, 'entry_year', CASE WHEN r.entry_year <> '' AND r.entry_year !~ '^([0-9]{{2}}|[0-9]{{4}})$' THEN '入学年份应为2位或4位数字' END),
    (13, 'qualification_subjects', {_SUBJECT_ERROR}),
    {_text(14, "province_name", "province_name", 40)}, {_text(15, "school_name", "school_name", 60)},
    {_text(16, "campus_name", "campus_name", 60)}, {_text(17, "grade", "grade", 10)},
    {_text(18, "department", "department", 60)}, {_text(19, "major", "major", 60)}, {_text(20, "class_name", "class", 30)},
    {_text(21, "student_number", "student_number", 30)}, {_text(22, "remarks", "remarks", 200)}"""

_WORDS = _list(YES_WORDS | NO_WORDS)
_SINGLE_DIGIT = _list(["", *"123456789"])
# A line that plainly passes every rule (it may be stricter than the rules, never looser): the
# list of rules runs only for the lines it does not clear. Octet lengths bound character lengths.
_STUDENT_PLAINLY_FINE = f"""coalesce(length(r.province_code) = 2 AND length(r.school_code) = 5
    AND (r.province_code || r.school_code || r.campus_code) ~ '^[0-9]{{13}}$'
    AND left(r.school_code, 2) = r.province_code AND left(r.campus_code, 5) = r.school_code AND (:scope = '' OR r.school_code = :scope)
    AND r.campus_offers_cet6 IN {_WORDS} AND r.cet6_barred IN {_WORDS}
    AND t.canonical IS NOT NULL AND r.id_number ~ '^[0-9A-Z()]{{1,32}}$'
    AND (t.canonical <> 'resident_id_card' OR {_resident_id_ok("r.id_number")})
    AND r.name <> '' AND octet_length(r.name) <= 60 AND r.gender IN {_list(GENDERS)}
    AND r.education_level IN {_list(["", *EDUCATION_LEVELS])} AND r.program_years IN {_SINGLE_DIGIT}
    AND (r.entry_year = '' OR r.entry_year ~ '^([0-9]{{2}}|[0-9]{{4}})$')
    AND r.qualification_subjects ~ {_KNOWN_SUBJECTS} AND r.qualification_subjects !~ '([{_SUBJECTS}]).*\\1'
    AND octet_length(r.province_name) <= 40 AND octet_length(r.school_name) <= 60 AND octet_length(r.campus_name) <= 60
    AND octet_length(r.grade) <= 10 AND octet_length(r.department) <= 60 AND octet_length(r.major) <= 60
    AND octet_length(r.class_name) <= 30 AND octet_length(r.student_number) <= 30 AND octet_length(r.remarks) <= 200, false)"""

# The rules of one line alone, for the lines (after, upto] of a job.
CHECK_STUDENTS = f"""
INSERT INTO import_errors (job_id, line, rule, field, message)
SELECT r.job_id, r.line, e.rule, e.field, e.message
FROM import_student_rows r LEFT JOIN {ID_TYPES} ON t.given = r.id_type
CROSS JOIN LATERAL (VALUES {_STUDENT_RULES}) AS e(rule, field, message)
WHERE r.job_id = :job AND r.line > :after AND r.line <= :upto AND NOT {_STUDENT_PLAINLY_FINE} AND e.message IS NOT NULL"""

# The rules across lines, once the whole file is checked line by line: an ID twice in the file,
# a campus described two ways; and for a teacher's file, the registry as it is: their school may
# not move province, nor take over another school's students.
# Hash aggregates, not sorts of the whole file: a file without such faults costs one pass each.
CHECK_STUDENT_FILE = (
    f"""WITH d AS (
        SELECT t.canonical AS id_type, upper(r.id_number) AS id_number, min(r.line) AS first
        FROM import_student_rows r JOIN {ID_TYPES} ON t.given = r.id_type WHERE r.job_id = :job
        GROUP BY 1, 2 HAVING count(*) > 1)
    INSERT INTO import_errors (job_id, line, rule, field, message)
    SELECT r.job_id, r.line, 23, 'id_number', '与第' || d.first || '行的证件重复'
    FROM import_student_rows r JOIN {ID_TYPES} ON t.given = r.id_type
    JOIN d ON d.id_type = t.canonical AND d.id_number = upper(r.id_number)
    WHERE r.job_id = :job AND r.line <> d.first""",
    f"""WITH v AS (
        SELECT campus_code AS code, campus_name, school_name, {yes_no("campus_offers_cet6")} IS TRUE AS offers, min(line) AS first
        FROM import_student_rows WHERE job_id = :job AND campus_code ~ '^[0-9]{{6}}$' GROUP BY 1, 2, 3, 4),
    f AS (SELECT DISTINCT ON (code) code, campus_name, school_name, offers FROM v
          WHERE code IN (SELECT code FROM v GROUP BY code HAVING count(*) > 1) ORDER BY code, first)
    INSERT INTO import_errors (job_id, line, rule, field, message)
    SELECT r.job_id, r.line, 24, 'campus_code', '同一校区在文件中的名称或CET6设置不一致'
    FROM import_student_rows r JOIN f ON f.code = r.campus_code
    WHERE r.job_id = :job AND (r.campus_name, r.school_name, {yes_no("r.campus_offers_cet6")} IS TRUE)
        IS DISTINCT FROM (f.campus_name, f.school_name, f.offers)""",
    """INSERT INTO import_errors (job_id, line, rule, field, message)
    SELECT r.job_id, r.line, 25, 'province_code', '与本校已登记的省份不一致'
    FROM import_student_rows r JOIN schools s ON s.code = :scope
    WHERE :scope <> '' AND r.job_id = :job AND r.province_code <> s.province_code""",
    f"""INSERT INTO import_errors (job_id, line, rule, field, message)
    SELECT r.job_id, r.line, 26, 'id_number', '该考生的学籍属于其他学校，请联系考试中心'
    FROM import_student_rows r JOIN {ID_TYPES} ON t.given = r.id_type
    JOIN students s ON s.id_type = t.canonical AND s.id_number = upper(r.id_number)
    WHERE :scope <> '' AND r.job_id = :job AND s.school_code <> :scope""",
)

# -- scores --------------------------------------------------------------------------------------

_WRITTEN = "'^[0-9]{2}[0-9]{3}[0-9][0-9]{2}[12][1-9][0-9]{3}[0-9]{2}$'"
_ORAL = "'^[FS][0-9]{14}$'"
_T = "upper(r.ticket_number)"
_NOT_CET4 = "'应为英语四级笔试准考证号（第10位科目代码为1）'"
_SCORE_RULES = f"""
    (1, 'ticket_number', CASE WHEN {_T} ~ {_WRITTEN} THEN CASE WHEN substr({_T}, 10, 1) <> '1' THEN {_NOT_CET4} END
        WHEN {_T} ~ {_ORAL} THEN {_NOT_CET4}
        WHEN {_T} ~ '^[0-9]{{15}}$' THEN CASE WHEN substr({_T}, 9, 1) NOT IN ('1', '2')
            THEN '准考证号第9位（考试半年）应为1（6月）或2（12月）' ELSE '准考证号第10位（科目代码）不正确' END
        ELSE '准考证号格式不正确：笔试准考证号为15位数字，口试准考证号为F或S加14位数字' END),
    (2, 'id_number', CASE WHEN upper(r.id_number) !~ '^[0-9A-Z()]{{1,32}}$' THEN '证件号码格式不正确' END),
    (3, 'name', CASE WHEN r.name = '' THEN '不能为空' WHEN length(r.name) > 60 THEN '长度不能超过60' END),
    (4, 'score', CASE WHEN r.score ~ '^[0-9]{{1,4}}$' AND r.score::int <= 710 THEN NULL ELSE '成绩应为0到710的整数' END),
    (5, 'year', CASE WHEN r.year ~ '^[0-9]{{4}}$' AND r.year::int BETWEEN 1987 AND :year THEN NULL ELSE '考试年份应在1987到' || :year || '之间' END),
    (6, 'half', CASE WHEN r.half NOT IN ('1', '2') THEN '考试半年应为1（6月）或2（12月）' END),
    (7, 'ticket_number', CASE WHEN {_T} ~ {_WRITTEN} AND r.year ~ '^[0-9]{{4}}$' AND r.year::int > 0
        AND substr({_T}, 7, 2) <> lpad((r.year::int % 100)::text, 2, '0') THEN '准考证号第7–8位与考试年份不一致' END),
    (8, 'ticket_number', CASE WHEN {_T} ~ {_WRITTEN} AND r.half IN ('1', '2') AND substr({_T}, 9, 1) <> r.half
        THEN '准考证号第9位与考试半年不一致' END)"""

_SCORE_PLAINLY_FINE = f"""coalesce(r.ticket_number ~ {_WRITTEN} AND substr(r.ticket_number, 10, 1) = '1'
    AND r.id_number ~ '^[0-9A-Z()]{{1,32}}$' AND r.name <> '' AND octet_length(r.name) <= 60
    AND r.score ~ '^[0-9]{{1,3}}$' AND r.half IN ('1', '2') AND substr(r.ticket_number, 9, 1) = r.half AND r.year ~ '^[0-9]{{4}}$'
    AND CASE WHEN r.score ~ '^[0-9]{{1,3}}$' AND r.year ~ '^[0-9]{{4}}$'
        THEN r.score::int <= 710 AND r.year::int BETWEEN 1987 AND :year AND substr(r.ticket_number, 7, 2) = right(r.year, 2) ELSE false END, false)"""

CHECK_SCORES = f"""
INSERT INTO import_errors (job_id, line, rule, field, message)
SELECT r.job_id, r.line, e.rule, e.field, e.message
FROM import_score_rows r CROSS JOIN LATERAL (VALUES {_SCORE_RULES}) AS e(rule, field, message)
WHERE r.job_id = :job AND r.line > :after AND r.line <= :upto AND NOT {_SCORE_PLAINLY_FINE} AND e.message IS NOT NULL"""

CHECK_SCORE_FILE = (
    f"""INSERT INTO import_errors (job_id, line, rule, field, message)
    SELECT job_id, line, 9, 'ticket_number', '与第' || first || '行的准考证号重复' FROM (
        SELECT r.job_id, r.line, min(r.line) OVER (PARTITION BY {_T} COLLATE "C") AS first
        FROM import_score_rows r WHERE r.job_id = :job AND ({_T} ~ {_WRITTEN} OR {_T} ~ {_ORAL})) d
    WHERE line <> first""",
)

# -- the merge: checked rows, typed -------------------------------------------------------------

STUDENT_FIELDS = (
    "id_type", "id_number", "name", "gender", "school_code", "campus_code", "education_level", "program_years", "entry_year",
    "grade", "department", "major", "class_name", "student_number", "remarks", "qualification_subjects", "cet6_barred",
)  # fmt: skip
# A checked cell holds known one-character codes: each is there or not, in the subjects' order.
_SUBJECT_ARRAY = "array_remove(ARRAY[" + ", ".join(f"CASE WHEN strpos(u.subjects, {_lit(c)}) > 0 THEN {_lit(c)} END" for c in SUBJECT_ORDER) + "], NULL)"
_TYPED = {
    "id_type": "t.canonical",
    "id_number": "upper(r.id_number)",
    "qualification_subjects": _SUBJECT_ARRAY,
    "cet6_barred": f"{yes_no('r.cet6_barred')} IS TRUE",
}
# A file names each identity once (the duplicate rule), so no batch touches a student twice.
MERGE_STUDENTS = f"""
WITH merged AS (
    INSERT INTO students (id, {", ".join(STUDENT_FIELDS)}, updated_at)
    SELECT gen_random_uuid(), {", ".join(_TYPED.get(f, f"r.{f}") for f in STUDENT_FIELDS)}, :now
    FROM import_student_rows r JOIN {ID_TYPES} ON t.given = r.id_type, LATERAL (SELECT upper(r.qualification_subjects) AS subjects) u
    WHERE r.job_id = :job AND r.line > :after AND r.line <= :upto
    ON CONFLICT ON CONSTRAINT students_identity DO UPDATE SET
        {", ".join(f"{f} = EXCLUDED.{f}" for f in (*STUDENT_FIELDS[2:], "updated_at"))}
    RETURNING (xmax = 0) AS created
) SELECT count(*), count(*) FILTER (WHERE created) FROM merged"""

MERGE_SCORES = f"""
WITH merged AS (
    INSERT INTO cet4_scores (ticket_number, id_number, name, score, year, half)
    SELECT {_T}, upper(r.id_number), r.name, r.score::smallint, r.year::smallint, r.half::smallint
    FROM import_score_rows r WHERE r.job_id = :job AND r.line > :after AND r.line <= :upto
    ON CONFLICT (ticket_number) DO UPDATE SET id_number = EXCLUDED.id_number, name = EXCLUDED.name,
        score = EXCLUDED.score, year = EXCLUDED.year, half = EXCLUDED.half
    RETURNING (xmax = 0) AS created
) SELECT count(*), count(*) FILTER (WHERE created) FROM merged"""

# Before the first batch: the provinces, schools and campuses the file names (the last line
# naming one wins, as before); names left empty in a file do not erase names already known.
PREPARE_STUDENTS = tuple(
    f"""INSERT INTO {table} ({", ".join(columns)})
       SELECT {", ".join(values)} FROM import_student_rows r
       JOIN (SELECT {key}, max(line) AS line FROM import_student_rows WHERE job_id = :job GROUP BY {key}) last ON r.line = last.line
       WHERE r.job_id = :job
       ON CONFLICT (code) DO UPDATE SET {updates}"""
    for table, key, columns, values, updates in (
        ("provinces", "province_code", ("code", "name"), ("r.province_code", "r.province_name"),
         "name = coalesce(nullif(EXCLUDED.name, ''), provinces.name)"),
        ("schools", "school_code", ("code", "province_code", "name"), ("r.school_code", "r.province_code", "r.school_name"),
         "province_code = EXCLUDED.province_code, name = coalesce(nullif(EXCLUDED.name, ''), schools.name)"),
        ("campuses", "campus_code", ("code", "school_code", "name", "offers_cet6"),
         ("r.campus_code", "r.school_code", "r.campus_name", f"{yes_no('r.campus_offers_cet6')} IS TRUE"),
         "school_code = EXCLUDED.school_code, name = coalesce(nullif(EXCLUDED.name, ''), campuses.name), offers_cet6 = EXCLUDED.offers_cet6"),
    )
)  # fmt: skip

RULES = {
    "students": (CHECK_STUDENTS, CHECK_STUDENT_FILE, MERGE_STUDENTS, PREPARE_STUDENTS),
    "scores": (CHECK_SCORES, CHECK_SCORE_FILE, MERGE_SCORES, ()),
}
