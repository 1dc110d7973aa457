from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cet_shared.auth import Principal, require_role, require_scoped_role
from eligibility.bootstrap import Eligibility


def get_eligibility(request: Request) -> Eligibility:
    return request.app.state.eligibility


EligibilityDep = Annotated[Eligibility, Depends(get_eligibility)]

# Least privilege: each endpoint names exactly the roles that may call it.
Candidate = Annotated[Principal, require_role("candidate")]
Teacher = Annotated[Principal, require_scoped_role("teacher")]  # their school only (README "Staff scopes")
Support = Annotated[Principal, require_role("support")]
Importer = Annotated[Principal, require_role("teacher", "ops")]


def client_address(request: Request) -> str:
    # Behind the gateway uvicorn runs with --proxy-headers, so this is the candidate's address.
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
