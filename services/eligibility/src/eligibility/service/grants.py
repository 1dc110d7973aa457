"""What an approved CET6 review grants (E10), recorded on the student and on every saved
registration of theirs, each change announced with QualificationGranted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final, Literal

from cet_shared.events.contracts import QualificationGranted
from eligibility.domain.codes import sort_subjects
from eligibility.domain.review import granted_subjects
from eligibility.service.ports import EligibilityUnitOfWork

GrantReason = Literal["cet6_review_rule1", "cet6_review_teacher"]  # QualificationGranted's contract
RULE1_REASON: Final = "cet6_review_rule1"
TEACHER_REASON: Final = "cet6_review_teacher"


async def grant(uow: EligibilityUnitOfWork, *, student_id: uuid.UUID, registry_subjects: list[str], reason: GrantReason, now: datetime) -> list[str]:
    """On the student, so later saves include it; on each saved registration (locked first)."""
    granted = granted_subjects(registry_subjects)
    await uow.registry.add_grants(student_id, granted, reason=reason, at=now)
    for registration in await uow.registrations.of_student(student_id):
        added = [code for code in granted if code not in registration.qualification_subjects]
        if not added:
            continue
        await uow.registrations.set_subjects(registration.id, sort_subjects(set(registration.qualification_subjects) | set(added)))
        await uow.publish(QualificationGranted(registration_id=registration.id, subject_codes=added, reason=reason), key=str(registration.id))
    return granted
