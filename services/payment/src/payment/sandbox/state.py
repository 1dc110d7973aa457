"""The sandbox's gateways: trades, refunds, notification deliveries — in memory."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from cet_shared.clock import Clock, to_shanghai
from payment.sandbox.bills import alipay_trade_bill
from payment.sandbox.notifications import SignedNotifications
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
    kind: str = "scheduled"  # scheduled | manual (a tester's control) | dropped
    overrides: dict[str, str] = field(default_factory=dict)


@dataclass
class Controls:
    """What a tester set (POST /sandbox/...): how notifications go out, how the trade query answers."""

    notify_mode: str = "deliver"  # deliver | hold (until released) | drop
    delay_seconds: float = 0.0  # before a trade's first notification, real seconds
    held: list[tuple[Trade, dict[str, str]]] = field(default_factory=list)
    # out_trade_no (or "*") → fail | unpaid | not_found | amount:<yuan> | trade_no:<number>
    query_faults: dict[str, str] = field(default_factory=dict)

    def query_fault(self, out_trade_no: str) -> str | None:
        return self.query_faults.get(out_trade_no) or self.query_faults.get("*")


class SandboxState(SignedNotifications):
    def __init__(
        self,
        settings: SandboxSettings,
        *,
        clock: Clock,
        alipay_key: rsa.RSAPrivateKey,
        app_public_key: rsa.RSAPublicKey,
        payease_key: str,
        payease_rsa_key: rsa.RSAPrivateKey,
        notify_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.alipay_key = alipay_key
        self.app_public_key = app_public_key
        self.payease_key = payease_key
        self.payease_rsa_key = payease_rsa_key  # signs v_sign; the merchant holds the public half
        self.controls = Controls()
        self.trades: dict[str, Trade] = {}
        self.deliveries: list[Delivery] = []
        self._serial = 0
        self.bill_tokens: set[str] = set()
        self._random = random.Random(settings.seed)  # noqa: S311 - a seeded, repeatable sandbox, not a secret
        self._tasks: set[asyncio.Task] = set()
        self._http = httpx.AsyncClient(timeout=10.0, transport=notify_transport)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    def open_trade(self, **kwargs) -> Trade:  # noqa: ANN003
        existing = self.trades.get(kwargs["out_trade_no"])
        if existing is not None and existing.status != "WAIT_BUYER_PAY":
            return existing
        trade = Trade(created_at=self.clock.now(), **kwargs)
        self.trades[trade.out_trade_no] = trade
        return trade

    def pay(self, out_trade_no: str, *, notify: bool = True) -> Trade:
        """The buyer pressed 确认付款. `notify=False` drops every notification (a missed one, Y5)."""
        trade = self.trades[out_trade_no]
        if trade.status == "WAIT_BUYER_PAY" and trade.time_expire and self.clock.now() > trade.time_expire:
            trade.status = "TRADE_CLOSED"
        if trade.status != "WAIT_BUYER_PAY":
            return trade
        trade.status = "TRADE_SUCCESS"
        trade.paid_at = self.clock.now()
        if trade.gateway == "alipay":
            trade.trade_no = self.new_trade_no(trade.paid_at)
        else:
            trade.trade_no = trade.out_trade_no  # PayEase identifies a payment by its order number
        if notify:
            self.schedule_notifications(trade)
        return trade

    def new_trade_no(self, paid_at: datetime) -> str:
        """Unique across restarts, as a real gateway's are: the payment's microsecond, then a serial
        for payments within one microsecond (numbering from 1 on each start reused old numbers)."""
        self._serial += 1
        micros = int(paid_at.timestamp() * 1_000_000)
        return to_shanghai(paid_at).strftime("%Y%m%d") + "2200" + f"{micros % 10**16:016d}{self._serial % 100:02d}"

    def schedule_notifications(self, trade: Trade, overrides: dict[str, str] | None = None) -> None:
        """Per the tester's controls: send (after the set delay), hold until released, or drop."""
        overrides = dict(overrides or {})
        if self.controls.notify_mode == "drop":
            self.deliveries.append(Delivery(trade.gateway, trade.out_trade_no, 0, "", kind="dropped", overrides=overrides))
            return
        if self.controls.notify_mode == "hold":
            self.controls.held.append((trade, overrides))
            return
        self._spawn(self._deliver(trade, overrides, delay=self.controls.delay_seconds))

    def release_held(self, *, reverse: bool = False) -> int:
        """Send the held notifications, in the order they were held or reversed (reordering)."""
        held, self.controls.held = self.controls.held, []
        self._spawn(self._deliver_in_order(list(reversed(held)) if reverse else held))
        return len(held)

    async def _deliver_in_order(self, held: list[tuple[Trade, dict[str, str]]]) -> None:
        for trade, overrides in held:  # each one's first attempt reaches the merchant before the next
            body, _ = self.notification_body(trade, overrides)
            answer = await self._post(trade, body)
            self.deliveries.append(Delivery(trade.gateway, trade.out_trade_no, 1, answer, overrides=overrides))
        for trade, overrides in held:
            if not self._acknowledged(trade):
                self._spawn(self._deliver(trade, overrides, first_attempt=2))

    def _acknowledged(self, trade: Trade) -> bool:
        expected = "success" if trade.gateway == "alipay" else "sent"
        return any(d.out_trade_no == trade.out_trade_no and d.answer == expected for d in self.deliveries)

    async def send_now(self, trade: Trade, overrides: dict[str, str] | None = None) -> Delivery:
        """A tester's one-off notification (a re-send, or another amount or status): sent once, now."""
        body, _ = self.notification_body(trade, overrides)
        delivery = Delivery(trade.gateway, trade.out_trade_no, 0, await self._post(trade, body), kind="manual", overrides=dict(overrides or {}))
        self.deliveries.append(delivery)
        return delivery

    def _spawn(self, work) -> None:  # noqa: ANN001 - a coroutine
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, trade: Trade, overrides: dict[str, str] | None = None, *, delay: float = 0.0, first_attempt: int = 1) -> None:
        delays = ALIPAY_RETRY_DELAYS if trade.gateway == "alipay" else PAYEASE_RETRY_DELAYS
        await asyncio.sleep(delay)
        for attempt, pause in list(enumerate(delays, start=1))[first_attempt - 1 :]:
            await asyncio.sleep(pause * self.settings.time_scale)
            body, expected = self.notification_body(trade, overrides)
            answer = await self._post(trade, body)
            self.deliveries.append(Delivery(trade.gateway, trade.out_trade_no, attempt, answer, overrides=dict(overrides or {})))
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
        trade.refunds.append(Refund(request_no, amount, self.clock.now(), reason))
        return True, ""

    def paid_on(self, gateway: str, day: date) -> list[Trade]:
        return [t for t in self.trades.values() if t.gateway == gateway and t.paid_at is not None and to_shanghai(t.paid_at).date() == day and t.in_statement]

    def alipay_bill(self, day: date) -> bytes:
        return alipay_trade_bill(self.settings.alipay_seller_id, self.paid_on("alipay", day), day, self.clock.now())

    def new_token(self) -> str:
        return secrets.token_urlsafe(16)

    def bill_url(self, day: str) -> str:
        """Like Alipay's, the download link is only good with the token it was issued with."""
        token = self.new_token()
        self.bill_tokens.add(token)
        return f"{self.settings.public_base_url}/alipay/bills/{day}.zip?{urlencode({'token': token})}"
