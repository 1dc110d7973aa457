"""The only paths payment gateways reach (O3). No token here: the signature is the authentication."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from payment.api.deps import PaymentDep
from payment.metrics import UNPROCESSED, record_notification
from payment.service.notifications import count_rejected, receive, rejected_too_often

router = APIRouter(prefix="/notify", tags=["gateway notifications"])
log = logging.getLogger(__name__)


async def _notify(gateway: str, request: Request, ctx) -> PlainTextResponse:  # noqa: ANN001
    # Only rejected notifications count against the sender: a real platform's signed ones always
    # pass, a forger's flood stops being stored after the limit (issue 13).
    source = request.client.host if request.client else "unknown"
    if await rejected_too_often(ctx.unit_of_work(), ctx.clock, ctx.settings, source) and not await _verifies(ctx, gateway, request):
        return PlainTextResponse(ctx.gateway(gateway).answer(stop_retrying=False), status_code=429, headers={"Retry-After": "60"})
    body = await request.body()
    try:
        result = await receive(ctx.unit_of_work(), ctx.clock, ctx.settings, ctx.gateways, gateway, body, request.headers.get("content-type"))
        if "rejected" in result.outcomes:
            await count_rejected(ctx.unit_of_work(), ctx.clock, ctx.settings, source)
    except Exception:  # we could not record or apply it: the gateway must try again later
        log.exception("%s notification could not be processed", gateway)
        record_notification(gateway, [UNPROCESSED])
        return PlainTextResponse(ctx.gateway(gateway).answer(stop_retrying=False), status_code=503)
    record_notification(gateway, result.outcomes)
    return PlainTextResponse(result.answer)


async def _verifies(ctx, gateway: str, request: Request) -> bool:  # noqa: ANN001
    """Over the limit, a notification is still taken if its signature holds (checked without I/O)."""
    return ctx.gateway(gateway).verify_notification(await request.body()).verified


@router.post("/alipay", response_class=PlainTextResponse)
async def alipay(request: Request, ctx: PaymentDep) -> PlainTextResponse:
    """Alipay's asynchronous notification; answered `success` (stop) or `fail` (retry)."""
    return await _notify("alipay", request, ctx)


@router.post("/payease", response_class=PlainTextResponse)
async def payease(request: Request, ctx: PaymentDep) -> PlainTextResponse:
    """PayEase's server-to-server result; answered `sent` (stop) or `error` (retry)."""
    return await _notify("payease", request, ctx)
