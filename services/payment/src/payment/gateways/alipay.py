"""Alipay (支付宝) open platform adapter: page pay, async notification, trade query, refund,
statement download. RSA2 everywhere; responses are verified over the raw JSON of their node."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from urllib.parse import parse_qsl

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from cet_shared.clock import SHANGHAI, to_shanghai
from payment.gateways.base import (
    GatewayError,
    NotifiedPayment,
    Redirect,
    RefundOutcome,
    StatementLine,
    TradeState,
    VerifiedNotification,
)
from payment.gateways.signing import alipay_sign_content, rsa2_sign, rsa2_verify

SUCCESS_STATUSES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def beijing_time(moment: datetime) -> str:
    return to_shanghai(moment).strftime(TIME_FORMAT)


def parse_beijing_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


def response_node(raw: str, node_name: str) -> tuple[dict, str, str | None]:
    """The response node, its exact text as signed, and the signature (Alipay signs the raw JSON)."""
    document = json.loads(raw)
    name = node_name if node_name in document else "error_response"
    marker = f'"{name}":'
    start = raw.index(marker) + len(marker)
    while raw[start] in " \t\r\n":
        start += 1
    node, end = json.JSONDecoder().raw_decode(raw, start)
    return node, raw[start:end], document.get("sign")


class AlipayAdapter:
    name = "alipay"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        gateway_url: str,
        app_id: str,
        seller_id: str,
        app_private_key: rsa.RSAPrivateKey,
        alipay_public_key: rsa.RSAPublicKey,
        notify_url: str,
        return_url: str,
        clock,  # noqa: ANN001 - cet_shared.clock.Clock
    ) -> None:
        self._http = http
        self._gateway_url = gateway_url
        self.app_id = app_id
        self.seller_id = seller_id
        self._private_key = app_private_key
        self._public_key = alipay_public_key
        self._notify_url = notify_url
        self._return_url = return_url
        self._clock = clock

    def _signed(self, method: str, biz: dict, **extra: str) -> dict[str, str]:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": beijing_time(self._clock.now()),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
            **extra,
        }
        params["sign"] = rsa2_sign(self._private_key, alipay_sign_content(params))
        return params

    def checkout(self, *, out_trade_no: str, amount_yuan: str, subject: str, bank: str | None, expires_at: datetime, now: datetime) -> Redirect:
        biz = {
            "out_trade_no": out_trade_no,
            "product_code": "FAST_INSTANT_TRADE_PAY",
            "total_amount": amount_yuan,
            "subject": subject,
            # The trade closes when the first subject would be deleted (N8): no payment after that.
            "time_expire": beijing_time(expires_at),
        }
        fields = self._signed("alipay.trade.page.pay", biz, notify_url=self._notify_url, return_url=self._return_url)
        return Redirect(method="POST", url=f"{self._gateway_url}?charset=utf-8", fields=fields)

    def verify_notification(self, body: bytes) -> VerifiedNotification:
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            return VerifiedNotification(False, "undecodable body")
        signature = params.get("sign", "")
        if not signature or params.get("sign_type", "RSA2") != "RSA2":
            return VerifiedNotification(False, "missing signature or unsupported sign_type")
        if not rsa2_verify(self._public_key, alipay_sign_content(params), signature):
            return VerifiedNotification(False, "bad signature")
        if params.get("app_id") != self.app_id:
            return VerifiedNotification(False, "app_id is not ours")
        status = params.get("trade_status", "")
        payment = NotifiedPayment(
            out_trade_no=params.get("out_trade_no", ""),
            transaction_id=params.get("trade_no", ""),
            amount_yuan=params.get("total_amount", ""),
            succeeded=status in SUCCESS_STATUSES,
            status=status,
            paid_at=parse_beijing_time(params.get("gmt_payment")),
            merchant_ok=not self.seller_id or params.get("seller_id") == self.seller_id,
            # Domestic trades are CNY; a trans_currency, when present, must say so.
            currency_ok=params.get("trans_currency", "CNY") == "CNY",
        )
        return VerifiedNotification(True, "verified", [payment])

    def answer(self, *, stop_retrying: bool) -> str:
        return "success" if stop_retrying else "fail"

    async def _call(self, method: str, biz: dict) -> dict:
        params = self._signed(method, biz)
        try:
            response = await self._http.post(self._gateway_url, data=params, headers={"accept": "application/json"})
            response.raise_for_status()
            node, signed_text, signature = response_node(response.text, method.replace(".", "_") + "_response")
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise GatewayError(f"alipay {method}: {exc!r}") from exc
        if signature and not rsa2_verify(self._public_key, signed_text, signature):
            raise GatewayError(f"alipay {method}: response signature invalid")
        if node.get("code") == "10000" and not signature:
            raise GatewayError(f"alipay {method}: unsigned success response")
        return node

    async def query(self, out_trade_no: str) -> TradeState:
        node = await self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        if node.get("code") != "10000":
            if node.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return TradeState("not_found", out_trade_no)
            raise GatewayError(f"alipay query: {node.get('code')} {node.get('sub_code')}")
        status = node.get("trade_status")
        state = "paid" if status in SUCCESS_STATUSES else "unpaid" if status == "WAIT_BUYER_PAY" else "closed"
        return TradeState(
            state,
            out_trade_no,
            transaction_id=node.get("trade_no"),
            amount_yuan=node.get("total_amount"),
            paid_at=parse_beijing_time(node.get("send_pay_date")),
        )

    async def refund(self, *, out_trade_no: str, transaction_id: str, amount_yuan: str, request_no: str, reason: str) -> RefundOutcome:
        # out_request_no makes the call idempotent: the same number never moves money twice.
        biz = {
            "out_trade_no": out_trade_no,
            "trade_no": transaction_id,
            "refund_amount": amount_yuan,
            "out_request_no": request_no,
            "refund_reason": reason,
        }
        node = await self._call("alipay.trade.refund", biz)
        if node.get("code") != "10000":
            raise GatewayError(f"alipay refund: {node.get('code')} {node.get('sub_code')} {node.get('sub_msg')}")
        return RefundOutcome(True, node.get("fund_change") == "Y", node.get("gmt_refund_pay", ""))

    async def statement(self, day: date) -> list[StatementLine]:
        node = await self._call("alipay.data.dataservice.bill.downloadurl.query", {"bill_type": "trade", "bill_date": day.isoformat()})
        if node.get("code") != "10000":
            raise GatewayError(f"alipay bill: {node.get('code')} {node.get('sub_code')}")
        try:
            response = await self._http.get(node["bill_download_url"])
            response.raise_for_status()
        except (httpx.HTTPError, KeyError) as exc:
            raise GatewayError(f"alipay bill download: {exc!r}") from exc
        return parse_trade_bill(response.content)


def _zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    return info.filename.encode("cp437").decode("gbk", errors="replace")  # Alipay zips name files in GBK


def parse_trade_bill(archive: bytes) -> list[StatementLine]:
    """The 业务明细 CSV of Alipay's trade bill (GBK; '#' lines are titles and totals)."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            detail = next(i for i in bundle.infolist() if _zip_name(i).endswith("业务明细.csv"))
            text = bundle.read(detail).decode("gbk")
    except (zipfile.BadZipFile, StopIteration, UnicodeDecodeError) as exc:
        raise GatewayError(f"alipay bill unreadable: {exc!r}") from exc
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    col = {name: i for i, name in enumerate(header)}
    lines = []
    for row in rows[1:]:
        cells = [c.strip().lstrip("\t") for c in row]
        kind = "refund" if cells[col["业务类型"]] == "退款" else "trade"
        lines.append(
            StatementLine(
                out_trade_no=cells[col["商户订单号"]],
                transaction_id=cells[col["支付宝交易号"]],
                amount_yuan=cells[col["订单金额（元）"]].lstrip("-"),
                kind=kind,
                paid_at=parse_beijing_time(cells[col["完成时间"]]),
            )
        )
    return lines
