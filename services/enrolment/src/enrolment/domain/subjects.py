"""N2: the CET subjects. Written codes 1–9, oral F and S; levels 4 and 6; only English has orals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["written", "oral"]


@dataclass(frozen=True)
class Subject:
    code: str
    name: str
    level: int
    kind: Kind
    language: str

    @property
    def label(self) -> str:
        """How the guide writes it in tables and qualification lists: 英语四级笔试, 英语四级口试."""
        return self.name if self.kind == "oral" else f"{self.name}笔试"


SUBJECTS: dict[str, Subject] = {
    s.code: s
    for s in (
        Subject("1", "英语四级", 4, "written", "英语"),
        Subject("2", "英语六级", 6, "written", "英语"),
        Subject("3", "日语四级", 4, "written", "日语"),
        Subject("4", "日语六级", 6, "written", "日语"),
        Subject("5", "德语四级", 4, "written", "德语"),
        Subject("6", "德语六级", 6, "written", "德语"),
        Subject("7", "俄语四级", 4, "written", "俄语"),
        Subject("8", "俄语六级", 6, "written", "俄语"),
        Subject("9", "法语四级", 4, "written", "法语"),
        Subject("F", "英语四级口试", 4, "oral", "英语"),
        Subject("S", "英语六级口试", 6, "oral", "英语"),
    )
}

# The written subject an oral one belongs to (N6: same level, and only English has orals).
ORAL_WRITTEN = {"F": "1", "S": "2"}

_BY_LABEL = {s.label: s.code for s in SUBJECTS.values()} | {s.name: s.code for s in SUBJECTS.values() if s.kind == "oral"}


def subject(code: str) -> Subject | None:
    return SUBJECTS.get(code)


def normalise_codes(values: list[str]) -> list[str]:
    """Qualification subjects as codes, whether eligibility sent codes ("1", "F") or labels (英语四级笔试)."""
    out: list[str] = []
    for value in values:
        value = value.strip()
        code = value.upper() if value.upper() in SUBJECTS else _BY_LABEL.get(value)
        if code and code not in out:
            out.append(code)
    return out
