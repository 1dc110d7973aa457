"""The only paths payment gateways reach (O3). No token here: the signature is the authentication."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from payment.api.deps import PaymentDep
from payment.metrics import UNPROCESSED, record_notification
from payment.service.notifications import receive

router = APIRouter(prefix="/notify", tags=["gateway notifications"])
log = logging.getLogger(__name__)


async def _notify(gateway: str, request: Request, ctx) -> PlainTextResponse:  # noqa: ANN001
    body = await request.body()
    try:
        result = await receive(ctx, gateway, body, request.headers.get("content-type"))
    except Exception:  # we could not record or apply it: the gateway must try again later
        log.exception("%s notification could not be processed", gateway)
        record_notification(gateway, [UNPROCESSED])
        return PlainTextResponse(ctx.gateway(gateway).answer(stop_retrying=False), status_code=503)
    record_notification(gateway, result.outcomes)
    return PlainTextResponse(result.answer)


@router.post("/alipay", response_class=PlainTextResponse)
async def alipay(request: Request, ctx: PaymentDep) -> PlainTextResponse:
    """Alipay's asynchronous notification; answered `success` (stop) or `fail` (retry)."""
    return await _notify("alipay", request, ctx)


@router.post("/payease", response_class=PlainTextResponse)
async def payease(request: Request, ctx: PaymentDep) -> PlainTextResponse:
    """PayEase's server-to-server result; answered `sent` (stop) or `error` (retry)."""
    return await _notify("payease", request, ctx)
