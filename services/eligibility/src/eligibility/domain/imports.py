"""Registry and score files (E13, E10): their columns and the values a cell may take. Pure.

A file is all or nothing: every line is checked (db/import_rules.py, in SQL on the staging table)
and the file imports only when no line has an error. Errors name the line in the file (header = 1),
the column and the reason, never the rejected value (it may be personal data).
"""

from __future__ import annotations

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
