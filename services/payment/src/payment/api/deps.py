from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cet_shared.auth import Principal, require_role
from payment.bootstrap import Payment


def get_payment(request: Request) -> Payment:
    return request.app.state.payment


PaymentDep = Annotated[Payment, Depends(get_payment)]
Candidate = Annotated[Principal, require_role("candidate")]
CandidateOrSupport = Annotated[Principal, require_role("candidate", "support")]
Support = Annotated[Principal, require_role("support")]
