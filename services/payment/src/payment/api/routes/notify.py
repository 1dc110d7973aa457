"""The only paths payment gateways reach (O3). No token here: the signature is the authentication."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from payment.api.deps import PaymentDep
from payment.metrics import UNPROCESSED, record_notification
from payment.service.notifications import count_rejected, receive, rejected_limit, rejected_too_often

router = APIRouter(prefix="/notify", tags=["gateway notifications"])
log = logging.getLogger(__name__)


async def _notify(gateway: str, request: Request, ctx) -> PlainTextResponse:  # noqa: ANN001
    # Only rejected notifications count against the sender: a real platform's signed ones always
    # pass, a forger's flood stops being stored after the limit (issue 13).
    source = request.client.host if request.client else "unknown"
    if await rejected_too_often(ctx.unit_of_work(), ctx.clock, ctx.settings, source) and not await _verifies(ctx, gateway, request):
        rejected_limit(ctx.settings).count_refusal()
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


def _answers(stop: str, retry: str) -> dict[int | str, dict[str, Any]]:
    """What a platform reads: plain text, never problem+json (the body limit's 413 aside)."""
    text = {"text/plain": {"schema": {"type": "string", "enum": [stop, retry]}}}
    return {
        200: {"description": f"`{stop}`：已处理，停止通知；`{retry}`：未通过验签，请重试", "content": text},
        429: {
            "description": "该来源未通过验签的通知过多：暂不受理",
            "content": text,
            "headers": {"Retry-After": {"required": True, "schema": {"type": "integer"}}},
        },
        503: {"description": "暂时无法记录，请稍后重发", "content": text},
    }


_FORM = {
    "requestBody": {
        "required": False,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "additionalProperties": {"type": "string"}}}},
    }
}


@router.post("/alipay", response_class=PlainTextResponse, summary="支付宝异步通知", responses=_answers("success", "fail"), openapi_extra=_FORM)
async def alipay(request: Request, ctx: PaymentDep) -> PlainTextResponse:
    """支付宝的异步通知，验签后处理；应答 `success`（停止）或 `fail`（重试）。"""
    return await _notify("alipay", request, ctx)


@router.post("/payease", response_class=PlainTextResponse, summary="首信易支付结果通知", responses=_answers("sent", "error"), openapi_extra=_FORM)
async def payease(request: Request, ctx: PaymentDep) -> PlainTextResponse:
    """首信易支付的服务器端结果通知；应答 `sent`（停止）或 `error`（重试）。"""
    return await _notify("payease", request, ctx)
