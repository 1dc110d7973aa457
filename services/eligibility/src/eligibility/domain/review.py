"""CET6 qualification review (E10): the button condition and the three rules. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from eligibility.domain.codes import ENGLISH_CET6, ORAL_CET4, ORAL_CET6

PASS_SCORE = 425
FIRST_ONLINE_YEAR = 2005  # earlier scores: a school teacher applies for the candidate


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"pending": "未复核", "approved": "复核通过", "rejected": "复核未通过"}[self.value]


class Outcome(StrEnum):
    RULE1_APPROVED = "rule1"
    RULE2_PENDING = "rule2"


@dataclass(frozen=True)
class ScoreRecord:
    ticket_number: str
    id_number: str
    name: str
    score: int
    year: int


class Refused(Exception):
    """Rule 3: nothing is stored. `code` and `title` become the problem answer."""

    def __init__(self, code: str, title: str) -> None:
        super().__init__(code)
        self.code = code
        self.title = title


def review_button_shown(*, campus_offers_cet6: bool, cet6_barred: bool, qualification_subjects: list[str]) -> bool:
    """E10: the written campus offers CET6, the candidate is not barred, and 英语六级 is missing."""
    return campus_offers_cet6 and not cet6_barred and ENGLISH_CET6 not in qualification_subjects


def granted_subjects(qualification_subjects: list[str]) -> list[str]:
    """What an approved review adds. 英语六级笔试 always; 英语六级口试 too when the candidate
    already holds the English oral qualification of level 4 (F): CET6 qualification then covers
    the level's oral exam as it does at level 4 (the guide's registrations list 英语四级口试
    with 英语四级笔试)."""
    granted = [ENGLISH_CET6]
    if ORAL_CET4 in qualification_subjects and ORAL_CET6 not in qualification_subjects:
        granted.append(ORAL_CET6)
    return granted


def _is_pass(record: ScoreRecord) -> bool:
    return record.score >= PASS_SCORE


def apply_rules(record: ScoreRecord | None, *, id_number: str, name: str) -> Outcome:
    """E10 rules 1–3 for a candidate's submission. Raises `Refused` for rule 3."""
    if record is None:
        raise Refused("review_ticket_unknown", "准考证号错误：未找到对应的CET四级笔试成绩记录")
    if record.year < FIRST_ONLINE_YEAR:
        raise Refused("review_score_before_2005", "CET四级笔试成绩为2005年之前的，请联系学校相关负责老师代为申请")
    id_matches = record.id_number.strip().upper() == id_number.strip().upper()
    name_matches = record.name.strip() == name.strip()
    if not id_matches and not name_matches:
        raise Refused("review_record_mismatch", "证件号码和姓名都与准考证号对应的成绩记录不一致，无法提交")
    if not _is_pass(record):
        raise Refused("review_not_passed", "该准考证号对应的CET四级笔试成绩未达到425分，无法提交")
    # Rule 1: ticket + ID number match a pass, whatever the name.
    if id_matches:
        return Outcome.RULE1_APPROVED
    # Rule 2: ticket + name match a pass but the ID number differs: a teacher reviews it.
    return Outcome.RULE2_PENDING
