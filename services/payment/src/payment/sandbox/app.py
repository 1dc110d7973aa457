"""The sandbox's HTTP face: Alipay's gateway.do and PayEase's pages and merchant interface; the
`/sandbox/...` controls for testers are in controls.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from html import escape
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

from cet_shared.clock import SHANGHAI, Clock, SystemClock, to_shanghai
from payment.domain.orders import PAYEASE_BANKS
from payment.gateways.alipay import TIME_FORMAT
from payment.gateways.signing import alipay_sign_content, hmac_md5_equal, load_private_key, load_public_key, rsa2_sign, rsa2_verify
from payment.sandbox.controls import controls_router
from payment.sandbox.keys import APP_PUBLIC, PAYEASE_GATEWAY_PRIVATE, PAYEASE_KEY, ensure_merchant_keys, new_alipay_key
from payment.sandbox.settings import SandboxSettings
from payment.sandbox.state import SandboxState, Trade
from payment.sandbox.web import page, pay_page, read_form


def build_state(settings: SandboxSettings, notify_transport: httpx.AsyncBaseTransport | None = None, *, clock: Clock | None = None) -> SandboxState:
    directory = Path(settings.key_dir)
    ensure_merchant_keys(directory)
    return SandboxState(
        settings,
        clock=clock or SystemClock(),
        alipay_key=new_alipay_key(directory),
        app_public_key=load_public_key(directory / APP_PUBLIC),
        payease_key=(directory / PAYEASE_KEY).read_text().strip(),
        payease_rsa_key=load_private_key(directory / PAYEASE_GATEWAY_PRIVATE),
        notify_transport=notify_transport,
    )


def create_app(settings: SandboxSettings | None = None, *, state: SandboxState | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.sandbox = state or build_state(settings or SandboxSettings())
        try:
            yield
        finally:
            if state is None:
                await app.state.sandbox.close()

    app = FastAPI(title="支付网关沙箱 (Alipay + PayEase emulator)", lifespan=lifespan)

    def sandbox(request: Request) -> SandboxState:
        return request.app.state.sandbox

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # -- Alipay -------------------------------------------------------------------------------

    def alipay_json(s: SandboxState, method: str, node: dict) -> Response:
        name = method.replace(".", "_") + "_response"
        node_text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        sign = rsa2_sign(s.alipay_key, node_text)
        return Response(f'{{"{name}":{node_text},"sign":"{sign}"}}', media_type="application/json; charset=utf-8")

    @app.api_route("/alipay/gateway.do", methods=["GET", "POST"])
    async def gateway(request: Request) -> Response:
        s = sandbox(request)
        params = await read_form(request)
        method = params.get("method", "")
        signed = params.get("sign", "")
        if params.get("app_id") != s.settings.alipay_app_id or not rsa2_verify(s.app_public_key, alipay_sign_content(params), signed):
            error = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"}
            if method == "alipay.trade.page.pay":
                return page("支付宝 - 错误", "<p>验签出错，请联系商户</p>")
            return alipay_json(s, method, error)
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            biz = {}
        if method == "alipay.trade.page.pay":
            return alipay_page_pay(s, params, biz)
        if method == "alipay.trade.query":
            return alipay_json(s, method, alipay_query(s, biz))
        if method == "alipay.trade.refund":
            return alipay_json(s, method, alipay_refund(s, biz))
        if method == "alipay.data.dataservice.bill.downloadurl.query":
            try:
                day = date.fromisoformat(str(biz.get("bill_date", "")))
            except ValueError:
                return alipay_json(s, method, {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-bill-date"})
            return alipay_json(s, method, {"code": "10000", "msg": "Success", "bill_download_url": s.bill_url(day.isoformat())})
        return alipay_json(s, method, {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"})

    def alipay_page_pay(s: SandboxState, params: dict, biz: dict) -> Response:
        expire = biz.get("time_expire")
        trade = s.open_trade(
            gateway="alipay",
            out_trade_no=str(biz.get("out_trade_no", "")),
            amount=str(biz.get("total_amount", "")),
            subject=str(biz.get("subject", "")),
            notify_url=params.get("notify_url", ""),
            return_url=params.get("return_url", ""),
            time_expire=datetime.strptime(expire, TIME_FORMAT).replace(tzinfo=SHANGHAI) if expire else None,
        )
        return pay_page("支付宝 收银台（沙箱）", trade, "/alipay/pay")

    def alipay_query(s: SandboxState, biz: dict) -> dict:
        out_trade_no = str(biz.get("out_trade_no", ""))
        trade, fault = s.trades.get(out_trade_no), s.controls.query_fault(out_trade_no) or ""
        if fault == "fail":
            return {"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error", "sub_msg": "系统繁忙"}
        if trade is None or trade.gateway != "alipay" or fault == "not_found":
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"}
        status = "WAIT_BUYER_PAY" if fault == "unpaid" else trade.status
        amount = fault.removeprefix("amount:") if fault.startswith("amount:") else trade.amount
        node = {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no, "trade_status": status, "total_amount": amount}
        if trade.trade_no and status == trade.status:
            trade_no = fault.removeprefix("trade_no:") if fault.startswith("trade_no:") else trade.trade_no
            node |= {"trade_no": trade_no, "buyer_logon_id": "cet***@sandbox.test", "send_pay_date": to_shanghai(trade.paid_at).strftime(TIME_FORMAT)}
        return node

    def alipay_refund(s: SandboxState, biz: dict) -> dict:
        trade = s.trades.get(str(biz.get("out_trade_no", "")))
        if trade is None or trade.gateway != "alipay":
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"}
        try:
            amount = Decimal(str(biz.get("refund_amount", "")))
        except InvalidOperation:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.INVALID_PARAMETER"}
        fund_change, error = s.refund(
            trade, request_no=str(biz.get("out_request_no") or trade.out_trade_no), amount=amount, reason=str(biz.get("refund_reason", ""))
        )
        if error:
            return {"code": "40004", "msg": "Business Failed", "sub_code": error}
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "cet***@sandbox.test",
            "fund_change": "Y" if fund_change else "N",
            "refund_fee": f"{trade.refunded:.2f}",
            "gmt_refund_pay": to_shanghai(s.clock.now()).strftime(TIME_FORMAT),
        }

    @app.post("/alipay/pay")
    async def alipay_pay(request: Request) -> Response:
        s = sandbox(request)
        trade = s.trades.get((await read_form(request)).get("out_trade_no", ""))
        if trade is None:
            return page("支付宝", "<p>交易不存在</p>")
        trade = s.pay(trade.out_trade_no)
        if trade.status != "TRADE_SUCCESS":
            return page("支付宝", "<p>交易已关闭，请返回商户重新下单</p>")
        back = f'<p><a href="{escape(trade.return_url)}">返回商户</a></p>' if trade.return_url else ""
        return page("支付宝", f"<p>付款成功：¥{escape(trade.amount)}</p>{back}")

    @app.get("/alipay/bills/{day}.zip")
    async def alipay_bill(day: date, request: Request, token: str = "") -> Response:
        s = sandbox(request)
        if token not in s.bill_tokens:
            return Response("链接已失效", status_code=403, media_type="text/plain; charset=utf-8")
        return Response(s.alipay_bill(day), media_type="application/zip")

    # -- PayEase ------------------------------------------------------------------------------

    def xml(body: str, charset: str) -> Response:
        text = f'<?xml version="1.0" encoding="{charset.upper()}"?>{body}'
        return Response(text.encode(charset), media_type=f"text/xml; charset={charset}")

    def order_xml(trade: Trade, index: int, fault: str = "") -> str:
        status = "2" if fault == "unpaid" else {"TRADE_SUCCESS": "1", "WAIT_BUYER_PAY": "2"}.get(trade.status, "3")
        amount = fault.removeprefix("amount:") if fault.startswith("amount:") else trade.statement_amount or trade.amount
        return (
            f"<order><orderindex>{index}</orderindex><oid>{xml_escape(trade.out_trade_no)}</oid>"
            f"<pmode>{xml_escape(PAYEASE_BANKS.get(trade.bank or '', ''))}</pmode><pstatus>{status}</pstatus>"
            f"<pstring>{'支付完成' if status == '1' else '未支付'}</pstring><amount>{xml_escape(amount)}</amount>"
            "<moneytype>0</moneytype><isvirement>0</isvirement><sign></sign></order>"
        )

    def head(status: str, desc: str, **extra: str) -> str:
        fields = "".join(f"<{k}>{xml_escape(v)}</{k}>" for k, v in extra.items())
        return f"<messagehead><status>{status}</status><statusdesc>{desc}</statusdesc>{fields}</messagehead>"

    @app.post("/payease/prs/user_payment.checkit")
    async def payease_checkout(request: Request) -> Response:
        s = sandbox(request)
        f = await read_form(request, s.settings.payease_charset)
        text = "".join(f.get(k, "") for k in ("v_moneytype", "v_ymd", "v_amount", "v_rcvname", "v_oid", "v_mid", "v_url"))
        if f.get("v_mid") != s.settings.payease_merchant_id or not hmac_md5_equal(s.payease_key, text, f.get("v_md5info", ""), s.settings.payease_charset):
            return page("首信易支付", "<p>数字签名错误，请联系商户</p>")
        trade = s.open_trade(
            gateway="payease",
            out_trade_no=f["v_oid"],
            amount=f.get("v_amount", ""),
            subject="订单 " + f["v_oid"],
            notify_url=s.settings.payease_notify_url,
            return_url=f.get("v_url", ""),
            bank=f.get("v_pmode") or None,
        )
        bank = PAYEASE_BANKS.get(trade.bank or "", "")
        return pay_page("首信易支付（沙箱）", trade, "/payease/pay", f"<tr><td>支付银行</td><td>{escape(bank)}</td></tr>")

    @app.post("/payease/pay")
    async def payease_pay(request: Request) -> Response:
        s = sandbox(request)
        trade = s.trades.get((await read_form(request)).get("out_trade_no", ""))
        if trade is None:
            return page("首信易支付", "<p>订单不存在</p>")
        trade = s.pay(trade.out_trade_no)
        back = f'<p><a href="{escape(trade.return_url)}">返回商户</a></p>' if trade.return_url else ""
        return page("首信易支付", f"<p>支付完成：¥{escape(trade.amount)}</p>{back}")

    def payease_checked(s: SandboxState, f: dict, *names: str) -> bool:
        return f.get("v_mid") == s.settings.payease_merchant_id and hmac_md5_equal(
            s.payease_key, "".join(f.get(n, "") for n in names), f.get("v_mac", ""), s.settings.payease_charset
        )

    @app.post("/payease/merchant/order/order_ack_oid_list.jsp")
    async def payease_query(request: Request) -> Response:
        s = sandbox(request)
        charset = s.settings.payease_charset
        f = await read_form(request, charset)
        if not payease_checked(s, f, "v_mid", "v_oid"):
            return xml(f"<pickorder>{head('1', '数字签名错误')}</pickorder>", charset)
        trade, fault = s.trades.get(f.get("v_oid", "")), s.controls.query_fault(f.get("v_oid", "")) or ""
        if fault == "fail":
            return xml(f"<pickorder>{head('9', '系统繁忙')}</pickorder>", charset)
        body = order_xml(trade, 1, fault) if trade and trade.gateway == "payease" and fault != "not_found" else ""
        return xml(f"<pickorder>{head('0', '成功', mid=f['v_mid'], oid=f['v_oid'])}<messagebody>{body}</messagebody></pickorder>", charset)

    @app.post("/payease/merchant/order/order_ack_day_list.jsp")
    async def payease_day_list(request: Request) -> Response:
        s = sandbox(request)
        charset = s.settings.payease_charset
        f = await read_form(request, charset)
        if not payease_checked(s, f, "v_mid", "v_ymd"):
            return xml(f"<pickorder>{head('1', '数字签名错误')}</pickorder>", charset)
        try:
            day = datetime.strptime(f.get("v_ymd", ""), "%Y%m%d").date()
        except ValueError:
            return xml(f"<pickorder>{head('2', '日期格式错误')}</pickorder>", charset)
        body = "".join(order_xml(t, i) for i, t in enumerate(s.paid_on("payease", day), start=1))
        return xml(f"<pickorder>{head('0', '成功', mid=f['v_mid'], ymd=f['v_ymd'])}<messagebody>{body}</messagebody></pickorder>", charset)

    @app.post("/payease/merchant/refund/ref_ack_submit.jsp")
    async def payease_refund(request: Request) -> Response:
        s = sandbox(request)
        charset = s.settings.payease_charset
        f = await read_form(request, charset)
        if not payease_checked(s, f, "v_mid", "v_oid", "v_refamount", "v_refoprt"):
            return xml("<refmessage><status>1</status><statusdesc>数字签名错误</statusdesc></refmessage>", charset)
        trade = s.trades.get(f.get("v_oid", ""))
        if trade is None or trade.gateway != "payease":
            return xml("<refmessage><status>2</status><statusdesc>订单不存在</statusdesc></refmessage>", charset)
        try:
            amount = Decimal(f.get("v_refamount", ""))
        except InvalidOperation:
            return xml("<refmessage><status>3</status><statusdesc>退款金额错误</statusdesc></refmessage>", charset)
        # PayEase itself has no request number: every accepted submission is a new refund.
        _, error = s.refund(trade, request_no=s.new_token(), amount=amount, reason=f.get("v_refreason", ""))
        if error:
            return xml(f"<refmessage><status>3</status><statusdesc>{error}</statusdesc></refmessage>", charset)
        refid = str(len(trade.refunds))
        return xml(
            f"<refmessage><status>0</status><statusdesc>退款申请成功</statusdesc><mid>{f['v_mid']}</mid><oid>{xml_escape(trade.out_trade_no)}</oid>"
            f"<refamount>{amount:.2f}</refamount><refoprt>{xml_escape(f.get('v_refoprt', ''))}</refoprt><refid>{refid}</refid><sign></sign></refmessage>",
            charset,
        )

    @app.post("/payease/merchant/refund/ref_ack_oid_list_utf8.jsp")
    async def payease_refund_list(request: Request) -> Response:
        s = sandbox(request)
        f = await read_form(request, s.settings.payease_charset)
        if not payease_checked(s, f, "v_mid", "v_oid"):
            return xml(f"<refundlist>{head('1', '数字签名错误')}</refundlist>", "utf-8")
        trade = s.trades.get(f.get("v_oid", ""))
        refunds = trade.refunds if trade else []
        body = "".join(
            f"<refund><refundindex>{i}</refundindex><refid>{i}</refid><refamount>{r.amount:.2f}</refamount><refmoneytype>0</refmoneytype>"
            f"<refdate>{to_shanghai(r.at):%Y%m%d}</refdate><refstatus>1</refstatus><reftype>0</reftype><refreason>{xml_escape(r.reason)}</refreason><sign></sign></refund>"
            for i, r in enumerate(refunds, start=1)
        )
        return xml(f"<refundlist>{head('0', '成功', mid=f['v_mid'], oid=f.get('v_oid', ''))}<messagebody>{body}</messagebody></refundlist>", "utf-8")

    app.include_router(controls_router(sandbox))
    return app
