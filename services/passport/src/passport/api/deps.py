from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cet_shared.auth import CurrentPrincipal
from passport.bootstrap import PassportContainer
from passport.domain.accounts import Account
from passport.service.sessions import current_account


# async: FastAPI runs a plain `def` dependency in its thread pool, a hop per request for nothing.
async def get_passport(request: Request) -> PassportContainer:
    return request.app.state.passport


PassportDep = Annotated[PassportContainer, Depends(get_passport)]


async def get_account(ctx: PassportDep, principal: CurrentPrincipal) -> Account:
    """The caller's account; tokens from before a password reset are refused here (P4)."""
    return await current_account(ctx.unit_of_work(), principal.passport_id, principal.token_version)


CurrentAccount = Annotated[Account, Depends(get_account)]


async def client_address(request: Request) -> str:
    # Behind the gateway uvicorn runs with --proxy-headers, so this is the candidate's address.
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
