"""Codes of the registry (E13), subjects (N2) and admission ticket numbers (E10). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

# N2: written 1..9, oral F (英语四级口试) and S (英语六级口试).
SUBJECT_NAMES: dict[str, str] = {
    "1": "英语四级笔试",
    "2": "英语六级笔试",
    "3": "日语四级笔试",
    "4": "日语六级笔试",
    "5": "德语四级笔试",
    "6": "德语六级笔试",
    "7": "俄语四级笔试",
    "8": "俄语六级笔试",
    "9": "法语四级笔试",
    "F": "英语四级口试",
    "S": "英语六级口试",
}
SUBJECT_ORDER = list(SUBJECT_NAMES)
ENGLISH_CET4 = "1"
ENGLISH_CET6 = "2"
ORAL_CET4 = "F"
ORAL_CET6 = "S"

# ASCII digits only: `\d` would also accept full-width and other Unicode digits.
PROVINCE_CODE = re.compile(r"^[0-9]{2}$")
SCHOOL_CODE = re.compile(r"^[0-9]{5}$")
CAMPUS_CODE = re.compile(r"^[0-9]{6}$")


def sort_subjects(codes: set[str] | list[str]) -> list[str]:
    return sorted(set(codes), key=SUBJECT_ORDER.index)


def subjects_text(codes: list[str]) -> str:
    """E4: 英语四级笔试; 英语四级口试"""
    return "; ".join(SUBJECT_NAMES[c] for c in sort_subjects(codes))


def parse_subjects(value: str) -> list[str]:
    """'1;F' or '1 F' or '1,F' → ['1', 'F']; raises ValueError naming the unknown code."""
    codes = [c for c in re.split(r"[;,，；\s|]+", value.strip().upper()) if c]
    for code in codes:
        if code not in SUBJECT_NAMES:
            raise ValueError(f"未知的科目代码 {code}")
    if len(set(codes)) != len(codes):
        raise ValueError("科目代码重复")
    return sort_subjects(codes)


def coded_label(code: str, name: str | None) -> str:
    """E4 shows codes with names: (99101)测试学校."""
    return f"({code}){name or ''}"


class TicketNumberInvalid(ValueError):
    pass


@dataclass(frozen=True)
class TicketNumber:
    """准考证号 (E10). Written: 15 digits — 1–2 region, 3–5 school, 6 campus, 7–8 year, 9 half
    (1 June, 2 December), 10 subject code, 11–13 room, 14–15 seat. Oral: F or S and 14 digits."""

    value: str
    oral: bool
    region: str
    year_2: str
    half: int | None
    subject_code: str

    @property
    def is_written_cet4(self) -> bool:
        return not self.oral and self.subject_code == ENGLISH_CET4


_WRITTEN = re.compile(r"^([0-9]{2})([0-9]{3})([0-9])([0-9]{2})([12])([1-9])([0-9]{3})([0-9]{2})$")
_ORAL = re.compile(r"^([FS])([0-9]{14})$")


def parse_ticket_number(value: str) -> TicketNumber:
    value = value.strip().upper()
    if written := _WRITTEN.match(value):
        region, _school, _campus, year, half, subject, _room, _seat = written.groups()
        return TicketNumber(value, False, region, year, int(half), subject)
    if oral := _ORAL.match(value):
        letter, digits = oral.groups()
        return TicketNumber(value, True, digits[:2], digits[6:8], None, letter)
    if len(value) == 15 and value.isascii() and value.isdigit():
        if value[8] not in "12":
            raise TicketNumberInvalid("准考证号第9位（考试半年）应为1（6月）或2（12月）")
        raise TicketNumberInvalid("准考证号第10位（科目代码）不正确")
    raise TicketNumberInvalid("准考证号格式不正确：笔试准考证号为15位数字，口试准考证号为F或S加14位数字")
