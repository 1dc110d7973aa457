"""N13 编排 as a job: its states and its progress (pure, no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

JobStatus = Literal["queued", "running", "done", "failed"]
ACTIVE: tuple[JobStatus, ...] = ("queued", "running")
STATUS_LABELS: dict[str, str] = {"queued": "排队中", "running": "编排中", "done": "已完成", "failed": "失败"}


@dataclass(frozen=True)
class ArrangementJob:
    id: uuid.UUID
    exam_session_id: uuid.UUID
    requested_by: str
    status: JobStatus
    total: int  # paid subjects frozen into this run (so far, while it is queued)
    arranged: int  # of them, seated (a subject refunded meanwhile is skipped)
    done_through: int  # every queue ordinal up to here is written
    frozen_through: tuple[str, str] | None  # (campus, subject) of the last offering frozen
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def progress(self) -> float:
        """0 … 1: the share of the frozen queue written."""
        if self.status == "done":
            return 1.0
        return self.done_through / self.total if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def batch_range(done_through: int, total: int, batch: int) -> tuple[int, int]:
    """The queue ordinals (first, last) of the next batch after `done_through`."""
    return done_through + 1, min(total, done_through + batch)
