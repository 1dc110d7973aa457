"""Support's tools (E12): find a caller's registrations, rebind one to another passport account."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from cet_shared.clock import Clock
from cet_shared.events.contracts import RegistrationRebound
from cet_shared.id_types import IdType
from cet_shared.privacy import mask_id_number, mask_name
from cet_shared.problems import Problem
from eligibility.domain.model import Rebinding
from eligibility.service.ports import BindingTaken, EligibilityUnitOfWork

PASSPORT_ID = re.compile(r"^[0-9A-F]{32}$")


async def find_registrations(uow: EligibilityUnitOfWork, *, id_type: IdType, id_number: str) -> list[dict[str, Any]]:
    """Support finds a caller's registrations by ID; names and numbers come back masked."""
    async with uow:
        found = await uow.registrations.by_identity(id_type=id_type.value, id_number=id_number.strip().upper())
    return [
        {
            "registration_id": str(f.registration.id),
            "exam_session": {"id": str(f.registration.exam_session_id), "name": f.session_name},
            "passport_id": f.registration.passport_id,
            "name": mask_name(f.registration.snapshot["name"]),
            "id_number": mask_id_number(f.registration.snapshot["id_number"]),
            "saved_at": f.registration.saved_at,
        }
        for f in found
    ]


@dataclass(frozen=True)
class Rebound:
    registration_id: uuid.UUID
    old_passport_id: str
    new_passport_id: str


async def rebind(uow: EligibilityUnitOfWork, clock: Clock, *, actor: str, registration_id: uuid.UUID, new_passport_id: str, reason: str) -> Rebound:
    """E12 / P8(b): move a registration to another passport account; audited; RegistrationRebound.
    The candidate's CET6 application (bound to the account) moves with it."""
    if not PASSPORT_ID.match(new_passport_id):
        raise Problem(422, "passport_id_invalid", "通行证ID应为32位大写十六进制字符")
    async with uow:
        registration = await uow.registrations.get(registration_id, for_update=True)
        if registration is None:
            raise Problem(404, "no_registration", "报名信息不存在")
        old = registration.passport_id
        if old == new_passport_id:
            raise Problem(409, "rebind_same_account", "报名信息已绑定在该通行证账号上")
        try:
            await uow.registrations.move(registration_id, new_passport_id)
        except BindingTaken:
            raise Problem(409, "target_account_bound", "目标通行证账号在该考次已绑定其他考生的报名信息") from None
        if await uow.reviews.of_account(new_passport_id) is None:
            await uow.reviews.move(student_id=registration.student_id, old_passport_id=old, new_passport_id=new_passport_id)
        await uow.registrations.record_rebinding(Rebinding(registration_id, old, new_passport_id, actor, reason, clock.now()))
        await uow.publish(RegistrationRebound(registration_id=registration_id, old_passport_id=old, new_passport_id=new_passport_id), key=str(registration_id))
        await uow.audit.record(
            "registration.rebound",
            ("registration", registration_id),
            before={"passport_id": old},
            after={"passport_id": new_passport_id, "reason": reason},
            candidate=new_passport_id,
            school=registration.snapshot.get("school_code"),
        )
        await uow.commit()
    return Rebound(registration_id, old, new_passport_id)
