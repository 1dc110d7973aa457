"""Reading a CSV file of rows (E13, E10): the header checked, blank lines skipped, every error
named by its line (header = 1), column and reason — never the rejected value. Pure."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Generic, TypeVar

_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}
MAX_ROWS = 50_000
T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class Parsed(Generic[T]):
    rows: list[T] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def read_rows(text: str, columns: tuple[str, ...], required: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    text = text.lstrip("\ufeff")  # Excel writes a BOM
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in columns]
    errors = [RowError(1, c, "缺少该列") for c in missing] + [RowError(1, h, "未知的列") for h in unknown]
    if errors:
        return [], errors
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for record in reader:
            if len(rows) >= MAX_ROWS:
                return [], [RowError(reader.line_num, "", f"文件行数超过上限{MAX_ROWS}")]
            if None in record:
                errors.append(RowError(reader.line_num, "", "该行的列数多于表头"))
                continue
            values = {k: (v or "").strip() for k, v in record.items()}
            if not any(values.values()):
                continue  # blank line
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "", f"CSV格式错误：{exc}"))
    if not rows and not errors:
        errors.append(RowError(1, "", "文件中没有数据行"))
    return rows, errors


def digits(value: str) -> bool:
    """ASCII digits only (str.isdigit also accepts ² and full-width digits, which int() refuses)."""
    return value.isascii() and value.isdigit()


ID_NUMBER = re.compile(r"^[0-9A-Z()]{1,32}$")


def yes_no(value: str) -> bool | None:
    low = value.lower()
    return True if low in _TRUE else False if low in _FALSE else None


def text_cell(values: dict[str, str], name: str, errors: list[RowError], row: int, *, required: bool, max_len: int) -> str:
    value = values.get(name, "")
    if required and not value:
        errors.append(RowError(row, name, "不能为空"))
    elif len(value) > max_len:
        errors.append(RowError(row, name, f"长度不能超过{max_len}"))
    return value
