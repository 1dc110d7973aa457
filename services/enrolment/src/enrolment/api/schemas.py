from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cet_shared.strict import JsonBool
from enrolment.service.session_specs import SubjectCode


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WrittenChoice(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"subject_codes": ["1", "4"]}]})

    subject_codes: list[SubjectCode] = Field(min_length=1, max_length=2)


class OralChoice(Request):
    offering_id: uuid.UUID


class CapacityChange(Request):
    capacity: int = Field(ge=0, le=100_000)


class LockChange(Request):
    enrolment_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    locked: JsonBool


class Enrolled(BaseModel):
    enrolment_ids: list[uuid.UUID]


class Acknowledged(BaseModel):
    acknowledged_at: datetime


class Waiting(BaseModel):
    waitlist_id: int


class Created(BaseModel):
    id: uuid.UUID
