"""The sandbox's pages and form reading, shared by the gateways' pages and the testers' controls."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse

from payment.sandbox.state import Trade


def page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        "<style>body{font-family:sans-serif;max-width:36em;margin:3em auto}table td{padding:.3em 1em}"
        "button{font-size:1.1em;padding:.5em 2em}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}<p><small>沙箱环境：不会产生真实扣款</small></p></body></html>"
    )


def pay_page(title: str, trade: Trade, action: str, extra: str = "") -> HTMLResponse:
    rows = f"<tr><td>商户订单号</td><td>{escape(trade.out_trade_no)}</td></tr><tr><td>商品</td><td>{escape(trade.subject)}</td></tr>"
    rows += extra + f"<tr><td>金额</td><td>¥{escape(trade.amount)}</td></tr>"
    form = f'<form method="post" action="{escape(action)}"><input type="hidden" name="out_trade_no" value="{escape(trade.out_trade_no)}"><button type="submit">确认付款</button></form>'
    return page(title, f"<table>{rows}</table>{form}")


async def read_form(request: Request, charset: str = "utf-8") -> dict[str, str]:
    params = dict(request.query_params)
    body = await request.body()
    if body:
        params.update(parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding=charset, errors="replace"))
    return params
