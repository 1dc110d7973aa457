from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cet_shared.auth import CurrentPrincipal
from passport.bootstrap import Passport
from passport.service import accounts as service


def get_passport(request: Request) -> Passport:
    return request.app.state.passport


PassportDep = Annotated[Passport, Depends(get_passport)]


async def get_account(ctx: PassportDep, principal: CurrentPrincipal):  # noqa: ANN201
    """The caller's account row; tokens from before a password reset are refused here (P4)."""
    return await service.current_account(ctx, principal.passport_id, principal.token_version)


CurrentAccount = Annotated[object, Depends(get_account)]


def client_address(request: Request) -> str:
    # Behind the gateway uvicorn runs with --proxy-headers, so this is the candidate's address.
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
