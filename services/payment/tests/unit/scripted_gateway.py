"""A payment gateway whose answers the test writes, for the unit tier."""

from __future__ import annotations

from datetime import date, datetime

from payment.gateways.base import GatewayError, Redirect, RefundOutcome, StatementLine, TradeState, VerifiedNotification


class ScriptedGateway:
    """A gateway whose answers the test writes: notifications by body, trade states, statements."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.notifications: dict[bytes, VerifiedNotification] = {}
        self.trades: dict[str, TradeState] = {}
        self.lines: list[StatementLine] = []
        self.refund_error: str | None = None
        self.refunded: list[str] = []

    def checkout(self, *, out_trade_no: str, amount_yuan: str, subject: str, bank: str | None, expires_at: datetime, now: datetime) -> Redirect:
        return Redirect("POST", f"https://{self.name}.test/pay", {"out_trade_no": out_trade_no, "amount": amount_yuan})

    def verify_notification(self, body: bytes) -> VerifiedNotification:
        return self.notifications.get(body, VerifiedNotification(False, "bad signature"))

    def answer(self, *, stop_retrying: bool) -> str:
        return "success" if stop_retrying else "fail"

    async def query(self, out_trade_no: str) -> TradeState:
        return self.trades.get(out_trade_no, TradeState("not_found", out_trade_no))

    async def refund(self, *, out_trade_no: str, transaction_id: str, amount_yuan: str, request_no: str, reason: str) -> RefundOutcome:
        if self.refund_error:
            raise GatewayError(self.refund_error)
        self.refunded.append(request_no)
        return RefundOutcome(True, True)

    async def statement(self, day: date) -> list[StatementLine]:
        return list(self.lines)
