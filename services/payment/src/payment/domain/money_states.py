"""What the candidate and support read about an order's money: paid, or on its way back (Y4).

An order whose applied payment is being given back whole (no subject kept it) reads as the refund's
state, not "paid"; a line reads as its refund's state when that line's subject was refused.
A refund of a surplus payment (the same order paid twice) leaves the order and its lines paid.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

REFUND_PENDING, REFUNDED, REFUND_FAILED = "refund_pending", "refunded", "refund_failed"
SURPLUS = "duplicate_payment"
LABELS = {
    "open": "待支付",
    "paid": "已支付",
    "closed": "已关闭",
    "preview": "待确认",
    "unpaid": "未支付",
    REFUND_PENDING: "退款中",
    REFUNDED: "已退款",
    REFUND_FAILED: "退款失败，请联系客服",
}
REASON_LABELS = {
    "late_payment_no_seat": "支付时科目已过期且考位已满，款项原路退回",
    "subject_not_payable": "科目已不可支付，款项原路退回",
    SURPLUS: "同一订单重复支付，多付款项原路退回",
}
_STATE = {"pending": REFUND_PENDING, "completed": REFUNDED, "failed": REFUND_FAILED}


@dataclass(frozen=True)
class RefundView:
    status: str  # refunds.status: pending | completed | failed
    amount_fen: int
    reason: str
    enrolment_ids: tuple[uuid.UUID, ...]

    @property
    def state(self) -> str:
        return _STATE[self.status]


def combined(states: Iterable[str]) -> str | None:
    """Failed outweighs pending outweighs done: the worst news is the one to show."""
    found = set(states)
    for state in (REFUND_FAILED, REFUND_PENDING, REFUNDED):
        if state in found:
            return state
    return None


def order_state(status: str, amount_fen: int, refunds: Sequence[RefundView]) -> str:
    returned = [r for r in refunds if r.reason != SURPLUS]
    if status == "paid" and returned and sum(r.amount_fen for r in returned) >= amount_fen:
        return combined(r.state for r in returned) or status
    return status


def line_state(status: str, enrolment_id: uuid.UUID, refunds: Sequence[RefundView]) -> str:
    mine = combined(r.state for r in refunds if r.reason != SURPLUS and enrolment_id in r.enrolment_ids)
    if mine:
        return mine
    return "paid" if status == "paid" else "unpaid"
