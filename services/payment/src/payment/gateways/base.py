"""What the payment service needs from a gateway, whichever it is (adapters in this package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol


class GatewayError(Exception):
    """The gateway could not be reached or answered something we cannot trust; try again later."""


@dataclass(frozen=True)
class Redirect:
    """What the portal needs to send the browser to the gateway: an auto-submitted form."""

    method: str
    url: str
    fields: dict[str, str]
    charset: str = "utf-8"  # the form's accept-charset: PayEase reads GBK


@dataclass(frozen=True)
class NotifiedPayment:
    """One payment as a verified notification (or query, or statement line) states it."""

    out_trade_no: str
    transaction_id: str
    amount_yuan: str
    succeeded: bool
    status: str
    paid_at: datetime | None = None
    merchant_ok: bool = True
    currency_ok: bool = True


@dataclass(frozen=True)
class VerifiedNotification:
    verified: bool
    reason: str
    payments: list[NotifiedPayment] = field(default_factory=list)


@dataclass(frozen=True)
class TradeState:
    status: Literal["paid", "unpaid", "closed", "not_found"]
    out_trade_no: str
    transaction_id: str | None = None
    amount_yuan: str | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True)
class RefundOutcome:
    refunded: bool
    fund_change: bool
    detail: str = ""


@dataclass(frozen=True)
class StatementLine:
    out_trade_no: str
    transaction_id: str
    amount_yuan: str
    kind: Literal["trade", "refund"]
    paid_at: datetime | None = None


class GatewayAdapter(Protocol):
    name: str

    def checkout(self, *, out_trade_no: str, amount_yuan: str, subject: str, bank: str | None, expires_at: datetime, now: datetime) -> Redirect: ...

    def verify_notification(self, body: bytes) -> VerifiedNotification: ...

    def answer(self, *, stop_retrying: bool) -> str: ...

    async def query(self, out_trade_no: str) -> TradeState: ...

    async def refund(self, *, out_trade_no: str, transaction_id: str, amount_yuan: str, request_no: str, reason: str) -> RefundOutcome: ...

    async def statement(self, day: date) -> list[StatementLine]: ...
