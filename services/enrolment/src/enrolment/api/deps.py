from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cet_shared.auth import Principal, require_role
from cet_shared.staff_scope import require_scoped_role
from enrolment.bootstrap import EnrolmentContainer


async def get_enrolment(request: Request) -> EnrolmentContainer:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request.
    return request.app.state.enrolment


EnrolmentDep = Annotated[EnrolmentContainer, Depends(get_enrolment)]
Candidate = Annotated[Principal, require_role("candidate")]
Ops = Annotated[Principal, require_role("ops")]
Teacher = Annotated[Principal, require_scoped_role("teacher")]  # their school only (README "Staff scopes")
