"""Request bodies. Every field is bounded so no input reaches the database unchecked."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, StrictBool, StringConstraints, field_validator, model_validator

from cet_shared.id_types import IdType, check_resident_id, parse_id_type
from cet_shared.strict import Strict

IdNumber = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z()（）\-]+$")]
# Stripped first: `\S` in the schema says what minLength cannot (a lone "\n" is empty once stripped).
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"\S")]
TicketNumberText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"\S")]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=r"\S")]


_LI_BO = {"id_type": "macao_id", "id_number": "99101000001", "name": "李博"}  # the guide's candidate (demo registry)


class Identity(Strict):
    """E1、E3：证件类型、证件号码和姓名均为必填；军官证另有明确的拒绝说明。"""

    model_config = ConfigDict(json_schema_extra={"examples": [_LI_BO]})

    id_type: IdType
    id_number: IdNumber
    name: Name

    @field_validator("id_type", mode="before")
    @classmethod
    def _id_type(cls, value: object) -> IdType:
        if not isinstance(value, str) or len(value) > 32:
            raise ValueError("证件类型不正确")
        return parse_id_type(value)

    @model_validator(mode="after")
    def _check_character(self) -> Identity:
        check_resident_id(self.id_type, self.id_number)
        return self


class AgreementAcceptance(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": "2017-2", "accepted": True}]})

    version: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    accepted: StrictBool  # a JSON boolean, never 0 or "yes"


class SaveRequest(Identity):
    model_config = ConfigDict(json_schema_extra={"examples": [_LI_BO | {"confirmed": True}]})

    confirmed: StrictBool = False


class ReviewRequest(Identity):
    model_config = ConfigDict(json_schema_extra={"examples": [_LI_BO | {"ticket_number": "993010162100101", "confirmed": True}]})

    ticket_number: TicketNumberText
    confirmed: StrictBool = False


class TeacherReviewRequest(Identity):
    ticket_number: TicketNumberText | None = None
    note: Note


class Decision(Strict):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class RecoveryRequest(Identity):
    captcha_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    captcha_answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16, pattern=r"\S")]


class SupportSearch(Strict):
    id_type: IdType
    id_number: IdNumber

    @field_validator("id_type", mode="before")
    @classmethod
    def _id_type(cls, value: object) -> IdType:
        if not isinstance(value, str) or len(value) > 32:
            raise ValueError("证件类型不正确")
        return parse_id_type(value)

    @model_validator(mode="after")
    def _check_character(self) -> SupportSearch:
        check_resident_id(self.id_type, self.id_number)
        return self


class RebindRequest(Strict):
    new_passport_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"\S")]
    reason: Note
