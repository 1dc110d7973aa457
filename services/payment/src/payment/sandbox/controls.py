"""What a tester needs from a gateway sandbox, as an API and as buttons on GET /sandbox:

- pay without notifying (`/trades/{no}/pay?notify=false`), plant statement mismatches (`/statement`);
- re-send a delivered notification, or send one with another amount, status or trade number
  (`/trades/{no}/notify` with `amount`, `status`, `trade_no`);
- how notifications go out (`/notifications` with `mode` = deliver | hold | drop, `delay_seconds`),
  and the held ones released in order or reversed (`/notifications/release` with `order`);
- make the trade query fail or lie (`/trades/{no}/query-fault`, or `*` for every trade, with
  `mode` = fail | unpaid | not_found | amount:<yuan> | trade_no:<number> | none).
Every control takes query or form parameters (the page's buttons) or JSON; a form gets the page back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from payment.sandbox.state import SandboxState, Trade
from payment.sandbox.web import page, read_form

NOTIFY_MODES = {"deliver", "hold", "drop"}
QUERY_FAULTS = ("fail", "unpaid", "not_found", "amount:", "trade_no:")


def trade_json(trade: Trade) -> dict:
    return {
        "gateway": trade.gateway,
        "out_trade_no": trade.out_trade_no,
        "trade_no": trade.trade_no,
        "status": trade.status,
        "amount": trade.amount,
        "refunds": [{"request_no": r.request_no, "amount": f"{r.amount:.2f}"} for r in trade.refunds],
        "statement_amount": trade.statement_amount,
        "in_statement": trade.in_statement,
    }


async def _params(request: Request) -> dict:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            body = None
        return {**request.query_params, **(body if isinstance(body, dict) else {})}
    return await read_form(request)


def _answer(request: Request, payload: dict | list, status_code: int = 200) -> Response:
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return RedirectResponse("/sandbox", status_code=303)  # a button on the page: back to it
    return JSONResponse(payload, status_code=status_code)


def _button(action: str, label: str, **fields: str) -> str:
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())
    return f'<form method="post" action="{escape(action)}" class="inline">{hidden}<button type="submit">{escape(label)}</button></form>'


def controls_router(sandbox: Callable[[Request], SandboxState]) -> APIRouter:
    router = APIRouter(prefix="/sandbox")

    @router.get("")
    async def controls_page(request: Request) -> Response:
        s = sandbox(request)
        c = s.controls
        rows = ""
        for t in s.trades.values():
            base = f"/sandbox/trades/{t.out_trade_no}"
            buttons = (
                _button(f"{base}/notify", "重发通知")
                + _button(f"{base}/notify", "通知金额+0.01", amount=f"{float(t.amount or 0) + 0.01:.2f}")
                + _button(f"{base}/notify", "通知失败状态", status="TRADE_CLOSED" if t.gateway == "alipay" else "3")
                + _button(f"{base}/query-fault", "查询失败", mode="fail")
                + _button(f"{base}/query-fault", "查询谎报未付", mode="unpaid")
                + _button(f"{base}/query-fault", "查询正常", mode="none")
            )
            rows += (
                f"<tr><td>{escape(t.gateway)}</td><td>{escape(t.out_trade_no)}</td><td>{escape(t.trade_no)}</td>"
                f"<td>{escape(t.status)}</td><td>¥{escape(t.amount)}</td><td>{buttons}</td></tr>"
            )
        modes = "".join(
            _button("/sandbox/notifications", f"通知：{label}", mode=mode) for mode, label in (("deliver", "正常发送"), ("hold", "暂存"), ("drop", "丢弃"))
        )
        delay = _button("/sandbox/notifications", "通知延迟5秒", delay_seconds="5") + _button("/sandbox/notifications", "不延迟", delay_seconds="0")
        release = _button("/sandbox/notifications/release", "按序发送暂存通知", order="fifo") + _button(
            "/sandbox/notifications/release", "倒序发送暂存通知", order="reverse"
        )
        state = f"<p>通知方式：{escape(c.notify_mode)}，延迟 {c.delay_seconds:g} 秒，暂存 {len(c.held)} 条；查询故障：{escape(json.dumps(c.query_faults, ensure_ascii=False))}</p>"
        table = f"<table><tr><th>网关</th><th>商户订单号</th><th>交易号</th><th>状态</th><th>金额</th><th>操作</th></tr>{rows}</table>"
        return page("支付沙箱 测试控制台", state + f"<p>{modes}{delay}</p><p>{release}</p>" + table)

    @router.get("/trades/{out_trade_no}")
    async def show_trade(out_trade_no: str, request: Request) -> JSONResponse:
        trade = sandbox(request).trades.get(out_trade_no)
        return JSONResponse(trade_json(trade) if trade else {"error": "not found"}, status_code=200 if trade else 404)

    @router.post("/trades/{out_trade_no}/pay")
    async def pay_quietly(out_trade_no: str, request: Request, notify: bool = True) -> JSONResponse:
        s = sandbox(request)
        if out_trade_no not in s.trades:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(trade_json(s.pay(out_trade_no, notify=notify)))

    @router.post("/trades/{out_trade_no}/statement")
    async def plant(out_trade_no: str, request: Request) -> JSONResponse:
        """Plant a reconciliation mismatch: {"amount": "0.03"} or {"listed": false}."""
        trade = sandbox(request).trades.get(out_trade_no)
        if trade is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        body = await request.json()
        trade.statement_amount = body.get("amount", trade.statement_amount)
        trade.in_statement = bool(body.get("listed", trade.in_statement))
        return JSONResponse(trade_json(trade))

    @router.post("/trades/{out_trade_no}/notify")
    async def notify_now(out_trade_no: str, request: Request) -> Response:
        """Send one notification now: a re-send, or with another `amount`, `status` or `trade_no`."""
        s = sandbox(request)
        trade = s.trades.get(out_trade_no)
        if trade is None or not trade.paid_at:
            return JSONResponse({"error": "no paid trade"}, status_code=404)
        params = await _params(request)
        overrides = {k: str(params[k]) for k in ("amount", "status", "trade_no") if params.get(k) not in (None, "")}
        delivery = await s.send_now(trade, overrides)
        return _answer(request, delivery.__dict__)

    @router.post("/trades/{out_trade_no}/query-fault")
    async def query_fault(out_trade_no: str, request: Request) -> Response:
        s = sandbox(request)
        mode = str((await _params(request)).get("mode", "none"))
        if mode == "none":
            s.controls.query_faults.pop(out_trade_no, None)
        elif mode.startswith(QUERY_FAULTS):
            s.controls.query_faults[out_trade_no] = mode
        else:
            return JSONResponse({"error": f"mode is one of {QUERY_FAULTS} or none"}, status_code=422)
        return _answer(request, {"query_faults": s.controls.query_faults})

    @router.post("/notifications")
    async def notifications(request: Request) -> Response:
        s = sandbox(request)
        params = await _params(request)
        mode = params.get("mode")
        if mode is not None and mode not in NOTIFY_MODES:
            return JSONResponse({"error": f"mode is one of {sorted(NOTIFY_MODES)}"}, status_code=422)
        try:
            delay = float(params["delay_seconds"]) if params.get("delay_seconds") not in (None, "") else s.controls.delay_seconds
        except ValueError:
            return JSONResponse({"error": "delay_seconds is a number"}, status_code=422)
        s.controls.notify_mode, s.controls.delay_seconds = mode or s.controls.notify_mode, max(0.0, delay)
        return _answer(request, {"mode": s.controls.notify_mode, "delay_seconds": s.controls.delay_seconds, "held": len(s.controls.held)})

    @router.post("/notifications/release")
    async def release(request: Request) -> Response:
        s = sandbox(request)
        order = (await _params(request)).get("order", "fifo")
        released = s.release_held(reverse=order == "reverse")
        return _answer(request, {"released": released, "order": order})

    @router.get("/deliveries")
    async def deliveries(request: Request) -> JSONResponse:
        return JSONResponse([d.__dict__ for d in sandbox(request).deliveries])

    return router
