"""A registry or score import job (E13, E10 at national scale) as its importer sees it. Pure.

receiving → queued → validating → merging → done, or → rejected: a file with any error imports
nothing (E13, all or nothing) and its error report names every line, field and reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ImportKind(StrEnum):
    STUDENTS = "students"
    SCORES = "scores"


class ImportStatus(StrEnum):
    RECEIVING = "receiving"
    QUEUED = "queued"
    VALIDATING = "validating"
    MERGING = "merging"
    DONE = "done"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def finished(self) -> bool:
        return self in (ImportStatus.DONE, ImportStatus.REJECTED)


_LABELS = {
    ImportStatus.RECEIVING: "接收中",
    ImportStatus.QUEUED: "排队中",
    ImportStatus.VALIDATING: "校验中",
    ImportStatus.MERGING: "导入中",
    ImportStatus.DONE: "已完成",
    ImportStatus.REJECTED: "有错误，未导入",
}


@dataclass(frozen=True)
class ImportJob:
    id: uuid.UUID
    kind: ImportKind
    scope: str  # "" for operations (any school), a teacher's school code otherwise
    status: ImportStatus
    requested_by: str
    rows_read: int
    rows_valid: int
    rows_merged: int
    rows_created: int
    error_count: int
    validated_through: int
    merged_through: int
    created_at: datetime
    finished_at: datetime | None

    @property
    def progress(self) -> float:
        """0..1: checking the lines is the first half of the work, merging them the second."""
        if self.status == ImportStatus.DONE:
            return 1.0
        if not self.rows_read:
            return 0.0
        checked = min(self.validated_through_rows, self.rows_read)
        return round((checked + self.rows_merged) / (2 * self.rows_read), 4)

    @property
    def validated_through_rows(self) -> int:
        # Lines checked ≈ rows checked (the header and blank lines aside), enough for a bar.
        return self.rows_read if self.status in (ImportStatus.MERGING, ImportStatus.DONE) else max(0, self.validated_through - 1)

    def view(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "kind": self.kind.value,
            "school_code": self.scope or None,
            "status": self.status.value,
            "status_label": self.status.label,
            "rows_read": self.rows_read,
            "rows_valid": self.rows_valid,
            "rows_merged": self.rows_merged,
            "created": self.rows_created,
            "updated": self.rows_merged - self.rows_created,
            "error_count": self.error_count,
            "progress": self.progress,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }
