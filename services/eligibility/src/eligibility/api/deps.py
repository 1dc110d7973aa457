from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cet_shared.auth import Principal, require_role
from cet_shared.clock import Clock
from cet_shared.staff_scope import require_scoped_role
from eligibility.bootstrap import EligibilityContainer
from eligibility.service.ports import EligibilityUnitOfWork
from eligibility.settings import EligibilitySettings


def get_eligibility(request: Request) -> EligibilityContainer:
    return request.app.state.eligibility


EligibilityDep = Annotated[EligibilityContainer, Depends(get_eligibility)]


# What the use cases receive: a unit of work of the request's own, the clock, the settings.
def get_unit_of_work(container: EligibilityDep) -> EligibilityUnitOfWork:
    return container.unit_of_work()


def get_clock(container: EligibilityDep) -> Clock:
    return container.clock


def get_settings(container: EligibilityDep) -> EligibilitySettings:
    return container.settings


UnitOfWorkDep = Annotated[EligibilityUnitOfWork, Depends(get_unit_of_work)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[EligibilitySettings, Depends(get_settings)]

# Least privilege: each endpoint names exactly the roles that may call it.
Candidate = Annotated[Principal, require_role("candidate")]
Teacher = Annotated[Principal, require_scoped_role("teacher")]  # their school only (README "Staff scopes")
Support = Annotated[Principal, require_role("support")]
Importer = Annotated[Principal, require_role("teacher", "ops")]


def client_address(request: Request) -> str:
    # Behind the gateway uvicorn runs with --proxy-headers, so this is the candidate's address.
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
