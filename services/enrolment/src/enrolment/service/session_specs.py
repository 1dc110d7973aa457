"""The exam session document (N1, N2, N3, N10, N11) as operations write it, for the ops API or a
JSON/YAML file (enrolment-admin), and the relative times a demo file may use."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from cet_shared.clock import SHANGHAI
from cet_shared.strict import IsoMoment, Strict

ProvinceCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
SchoolCode = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
CampusCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
SubjectCode = Literal["1", "2", "3", "4", "5", "6", "7", "8", "9", "F", "S"]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True, pattern=r"\S")]  # \S: blank is no text
LongText = Annotated[str, StringConstraints(max_length=20_000)]


def _storable(moment: datetime) -> datetime:
    # Stored in UTC: a time at the calendar's edge (year 1 east of UTC…) has no UTC value to store.
    if not 1970 <= moment.year <= 2999 or not 1970 <= moment.astimezone(UTC).year <= 2999:
        raise ValueError("time must lie between the years 1970 and 2999")
    return moment


Moment = Annotated[IsoMoment, AfterValidator(_storable)]  # ISO 8601 text in a plausible range


class Window(Strict):
    opens_at: Moment
    closes_at: Moment

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class OfferingSpec(Strict):
    subject: SubjectCode
    fee_fen: int | None = Field(default=None, ge=0, le=100_000)
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    opens_at: Moment | None = None
    closes_at: Moment | None = None

    @model_validator(mode="after")
    def _ordered(self) -> OfferingSpec:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class CampusSpec(Strict):
    province_code: ProvinceCode
    school_code: SchoolCode
    school_name: ShortText
    campus_code: CampusCode
    campus_name: ShortText
    accepts_other_schools: bool = False
    offerings: list[OfferingSpec] = Field(default_factory=list, max_length=11)

    @model_validator(mode="after")
    def _codes_nest(self) -> CampusSpec:
        if not self.school_code.startswith(self.province_code) or not self.campus_code.startswith(self.school_code):
            raise ValueError("school code starts with the province code, campus code with the school code")
        return self


class NoticeSpec(Strict):
    scope: Literal["registration_notes", "province", "school"]
    province_code: ProvinceCode | None = None
    school_code: SchoolCode | None = None
    title: ShortText
    body: LongText
    position: int = Field(default=0, ge=0, le=1000)

    @model_validator(mode="after")
    def _scoped(self) -> NoticeSpec:
        if self.scope == "province" and not self.province_code:
            raise ValueError("a province notice needs province_code")
        if self.scope == "school" and not self.school_code:
            raise ValueError("a school notice needs school_code")
        return self


class SchoolOralSpec(Strict):
    school_code: SchoolCode
    allow_other_schools: bool = False
    allowed_campus_codes: list[CampusCode] | None = Field(default=None, max_length=1000)


class SessionSpec(Strict):
    id: uuid.UUID | None = None
    name: ShortText
    year: int = Field(ge=2000, le=2099)
    half: Literal[1, 2]
    registration: Window
    written_exam_date: date | None = None
    oral_exam_dates: dict[Literal["F", "S"], date] = Field(default_factory=dict)
    written_tickets: Window | None = None
    oral_tickets: Window | None = None
    notices: list[NoticeSpec] = Field(default_factory=list, max_length=1000)
    school_oral_settings: list[SchoolOralSpec] = Field(default_factory=list, max_length=10_000)
    campuses: list[CampusSpec] = Field(default_factory=list, max_length=10_000)


# -- relative times in files, so a demo session is always "now" -----------------------------

_RELATIVE = re.compile(r"^(now|today)((?:[+-]\d+[dhm])*)(?:@(\d{2}):(\d{2}))?$")
_STEP = re.compile(r"([+-])(\d+)([dhm])")


def resolve_relative(value: Any, now: datetime) -> Any:
    """'now-1d', 'now+30d', 'today+40d', 'today+40d@09:00' (Asia/Shanghai) anywhere in a document."""
    if isinstance(value, dict):
        return {k: resolve_relative(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_relative(v, now) for v in value]
    if not isinstance(value, str) or not (match := _RELATIVE.match(value)):
        return value
    base, steps, hour, minute = match.groups()
    moment = now.astimezone(SHANGHAI)
    if base == "today":
        moment = datetime.combine(moment.date(), time(0, 0), SHANGHAI)
    for sign, amount, unit in _STEP.findall(steps):
        delta = timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: int(amount)})
        moment = moment + delta if sign == "+" else moment - delta
    if hour is not None:
        moment = moment.replace(hour=int(hour), minute=int(minute))
    if base == "today" and hour is None:
        return moment.date().isoformat()
    return moment.isoformat()
