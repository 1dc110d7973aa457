"""Strict input types shared by the services' request models (issue 13), and `Strict`, their base.

Times only as ISO 8601 text (pydantic would also take 1000000000000 as epoch milliseconds) inside
a plausible range of years, CET_EARLIEST_YEAR..CET_LATEST_YEAR (an exam session in 1970 or 9999 is
a typo); booleans only as JSON booleans (never 0, 1 or "yes")."""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, StrictBool, field_validator

EARLIEST_YEAR = int(os.environ.get("CET_EARLIEST_YEAR", "2000"))
LATEST_YEAR = int(os.environ.get("CET_LATEST_YEAR", "2100"))
_ISO_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_text(value: object) -> object:
    if isinstance(value, (datetime, date)):
        return value  # already a time (a YAML file read by the admin CLI)
    if not isinstance(value, str) or not _ISO_DATE_START.match(value):
        raise ValueError("时间须为 ISO 8601 格式，例如 2026-03-01T09:00:00+08:00")
    return value


def _plausible(moment: datetime) -> datetime:
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"时间须在 {EARLIEST_YEAR} 年至 {LATEST_YEAR} 年之间")
    return moment


IsoMoment = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_plausible)]
JsonBool = StrictBool


class Strict(BaseModel):
    """A request body: unknown fields refused, and no text holding NUL."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL: refuse it here as bad input, not later as a database error.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("包含无法识别的字符")
        return value


__all__ = ["EARLIEST_YEAR", "LATEST_YEAR", "IsoMoment", "JsonBool", "Strict"]
