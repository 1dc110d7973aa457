"""The sandbox's gateways: trades, refunds, notification deliveries — in memory."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import random
import secrets
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from cet_shared.clock import to_shanghai
from payment.domain.orders import PAYEASE_BANKS
from payment.gateways.alipay import beijing_time
from payment.gateways.signing import alipay_sign_content, hmac_md5, rsa2_sign
from payment.sandbox.settings import SandboxSettings

log = logging.getLogger(__name__)

# Alipay: 8 notifications over about 25 hours until it reads `success`.
ALIPAY_RETRY_DELAYS = [0, 4 * 60, 10 * 60, 10 * 60, 3600, 2 * 3600, 6 * 3600, 15 * 3600]
# PayEase publishes no schedule; it re-sends until it reads `sent`. This one is ours.
PAYEASE_RETRY_DELAYS = [0, 60, 5 * 60, 15 * 60, 3600, 2 * 3600]


@dataclass
class Refund:
    request_no: str
    amount: Decimal
    at: datetime
    reason: str = ""


@dataclass
class Trade:
    gateway: str
    out_trade_no: str
    amount: str
    subject: str
    created_at: datetime
    notify_url: str
    return_url: str = ""
    bank: str | None = None
    time_expire: datetime | None = None
    trade_no: str = ""
    status: str = "WAIT_BUYER_PAY"  # TRADE_SUCCESS | TRADE_CLOSED
    paid_at: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)
    # Planted for reconciliation drills: what the statement says, or whether it lists the trade.
    statement_amount: str | None = None
    in_statement: bool = True

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0"))


@dataclass
class Delivery:
    gateway: str
    out_trade_no: str
    attempt: int
    answer: str
    duplicate: bool = False


class SandboxState:
    def __init__(self, settings: SandboxSettings, *, alipay_key: rsa.RSAPrivateKey, app_public_key: rsa.RSAPublicKey, payease_key: str, notify_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.alipay_key = alipay_key
        self.app_public_key = app_public_key
        self.payease_key = payease_key
        self.trades: dict[str, Trade] = {}
        self.deliveries: list[Delivery] = []
        self._serial = 0
        self.bill_tokens: set[str] = set()
        self._random = random.Random(settings.seed)
        self._tasks: set[asyncio.Task] = set()
        self._http = httpx.AsyncClient(timeout=10.0, transport=notify_transport)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def open_trade(self, **kwargs) -> Trade:  # noqa: ANN003
        existing = self.trades.get(kwargs["out_trade_no"])
        if existing is not None and existing.status != "WAIT_BUYER_PAY":
            return existing
        trade = Trade(created_at=self.now(), **kwargs)
        self.trades[trade.out_trade_no] = trade
        return trade

    def pay(self, out_trade_no: str, *, notify: bool = True) -> Trade:
        """The buyer pressed 确认付款. `notify=False` drops every notification (a missed one, Y5)."""
        trade = self.trades[out_trade_no]
        if trade.status == "WAIT_BUYER_PAY" and trade.time_expire and self.now() > trade.time_expire:
            trade.status = "TRADE_CLOSED"
        if trade.status != "WAIT_BUYER_PAY":
            return trade
        self._serial += 1
        trade.status = "TRADE_SUCCESS"
        trade.paid_at = self.now()
        if trade.gateway == "alipay":
            trade.trade_no = to_shanghai(trade.paid_at).strftime("%Y%m%d") + "2200" + f"{self._serial:018d}"
        else:
            trade.trade_no = trade.out_trade_no  # PayEase identifies a payment by its order number
        if notify:
            self.schedule_notifications(trade)
        return trade

    # -- notifications --------------------------------------------------------------------------

    def alipay_notification(self, trade: Trade) -> dict[str, str]:
        amount = trade.amount
        params = {
            "notify_time": beijing_time(self.now()),
            "notify_type": "trade_status_sync",
            "notify_id": uuid.uuid4().hex,
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "app_id": self.settings.alipay_app_id,
            "auth_app_id": self.settings.alipay_app_id,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_id": "2088102177846880",
            "buyer_logon_id": "cet***@sandbox.test",
            "seller_id": self.settings.alipay_seller_id,
            "trade_status": trade.status,
            "total_amount": amount,
            "receipt_amount": amount,
            "buyer_pay_amount": amount,
            "invoice_amount": amount,
            "point_amount": "0.00",
            "subject": trade.subject,
            "gmt_create": beijing_time(trade.created_at),
            "gmt_payment": beijing_time(trade.paid_at or self.now()),
        }
        params["sign"] = rsa2_sign(self.alipay_key, alipay_sign_content(params))
        return params

    def payease_notification(self, trade: Trade) -> dict[str, str]:
        charset = self.settings.payease_charset
        fields = {
            "v_oid": trade.out_trade_no,
            "v_pmode": PAYEASE_BANKS.get(trade.bank or "", "首信易支付"),
            "v_pstatus": "1",
            "v_pstring": "支付完成",
            "v_count": "1",
            "v_amount": trade.amount,
            "v_moneytype": "0",
        }
        fields["v_mac"] = hmac_md5(self.payease_key, fields["v_oid"] + fields["v_pmode"] + fields["v_pstatus"] + fields["v_pstring"] + fields["v_count"], charset)
        fields["v_md5money"] = hmac_md5(self.payease_key, fields["v_amount"] + fields["v_moneytype"], charset)
        return fields

    def notification_body(self, trade: Trade) -> tuple[bytes, str]:
        if trade.gateway == "alipay":
            return urlencode(self.alipay_notification(trade)).encode(), "success"
        charset = self.settings.payease_charset
        return urlencode(self.payease_notification(trade), encoding=charset).encode("ascii"), "sent"

    def schedule_notifications(self, trade: Trade) -> None:
        task = asyncio.create_task(self._deliver(trade))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, trade: Trade) -> None:
        delays = ALIPAY_RETRY_DELAYS if trade.gateway == "alipay" else PAYEASE_RETRY_DELAYS
        for attempt, delay in enumerate(delays, start=1):
            await asyncio.sleep(delay * self.settings.time_scale)
            body, expected = self.notification_body(trade)
            answer = await self._post(trade, body)
            self.deliveries.append(Delivery(trade.gateway, trade.out_trade_no, attempt, answer))
            if answer == expected:
                if self._random.random() < self.settings.duplicate_rate:
                    answer = await self._post(trade, body)
                    self.deliveries.append(Delivery(trade.gateway, trade.out_trade_no, attempt, answer, duplicate=True))
                return
        log.warning("sandbox: %s gave up notifying %s", trade.gateway, trade.out_trade_no)

    async def _post(self, trade: Trade, body: bytes) -> str:
        content_type = "application/x-www-form-urlencoded; charset=" + ("utf-8" if trade.gateway == "alipay" else self.settings.payease_charset)
        try:
            response = await self._http.post(trade.notify_url, content=body, headers={"content-type": content_type})
            return response.text.strip()
        except httpx.HTTPError as exc:
            return f"unreachable: {exc!r}"

    # -- refunds and statements -------------------------------------------------------------------

    def refund(self, trade: Trade, *, request_no: str, amount: Decimal, reason: str = "") -> tuple[bool, str]:
        """(fund_change, error). The same request number never moves money twice."""
        if any(r.request_no == request_no for r in trade.refunds):
            return False, ""
        if trade.status != "TRADE_SUCCESS":
            return False, "ACQ.TRADE_STATUS_ERROR"
        if amount <= 0 or trade.refunded + amount > Decimal(trade.amount):
            return False, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
        trade.refunds.append(Refund(request_no, amount, self.now(), reason))
        return True, ""

    def paid_on(self, gateway: str, day: date) -> list[Trade]:
        return [
            t for t in self.trades.values()
            if t.gateway == gateway and t.paid_at is not None and to_shanghai(t.paid_at).date() == day and t.in_statement
        ]

    def alipay_bill(self, day: date) -> bytes:
        header = ["支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员", "终端号",
                  "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）",
                  "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注"]
        out = io.StringIO()
        out.write("#支付宝业务明细查询\n")
        out.write(f"#账号：[{self.settings.alipay_seller_id}0156]\n")
        out.write(f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day + timedelta(days=1):%Y年%m月%d日} 00:00:00]\n")
        out.write("#-----------------------------------------业务明细列表----------------------------------------\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        count = 0
        for t in self.paid_on("alipay", day):
            amount = t.statement_amount or t.amount
            writer.writerow([t.trade_no + "\t", t.out_trade_no + "\t", "交易", t.subject, beijing_time(t.created_at), beijing_time(t.paid_at),
                             "", "", "", "", "cet***@sandbox.test", amount, amount, "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", "", "0.00", "0.00", ""])
            count += 1
        out.write("#-----------------------------------------业务明细列表结束------------------------------------\n")
        out.write(f"#交易合计：{count}笔\n")
        out.write(f"#导出时间：[{to_shanghai(self.now()):%Y年%m月%d日 %H:%M:%S}]\n")
        stem = f"{self.settings.alipay_seller_id}0156_{day:%Y%m%d}"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr(f"{stem}_业务明细.csv", out.getvalue().encode("gbk"))
            bundle.writestr(f"{stem}_业务明细(汇总).csv", f"#支付宝业务汇总查询\n交易笔数,{count}\n".encode("gbk"))
        return buffer.getvalue()

    def new_token(self) -> str:
        return secrets.token_urlsafe(16)

    def bill_url(self, day: str) -> str:
        """Like Alipay's, the download link is only good with the token it was issued with."""
        token = self.new_token()
        self.bill_tokens.add(token)
        return f"{self.settings.public_base_url}/alipay/bills/{day}.zip?{urlencode({'token': token})}"
