"""Wording of the mails about money (Y6 receipt, Y4 refund). Pure: the handlers fill them in.

A receipt is only for money that bought a seat (enrolment's PaymentAllocated); money that goes
back gets a refund notice when it has gone back (payment's RefundCompleted), never a receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cet_shared.clock import to_shanghai

GATEWAY_NAMES = {"alipay": "支付宝", "payease": "首信易支付"}
RECEIPT_SUBJECT = "CET报名网 缴费成功通知"
REFUND_SUBJECT = "CET报名网 退款通知"
REFUND_REASONS = {
    "late_payment_no_seat": "支付到账时该科目已超过24小时未支付被删除，且考位已被他人报满",
    "subject_not_payable": "支付到账时该科目已不可支付",
    "duplicate_payment": "同一订单被重复支付",
}


@dataclass(frozen=True)
class Line:
    subject_code: str
    subject_name: str
    fee_fen: int


def yuan(fen: int) -> str:
    """Fen to the yuan string candidates read: 2 → 0.02."""
    return f"{fen // 100}.{fen % 100:02d}"


def _when(moment: datetime) -> str:
    return to_shanghai(moment).strftime("%Y-%m-%d %H:%M")


def _lines(lines: Sequence[Line]) -> str:
    return "".join(f"  ({s.subject_code}){s.subject_name}  {yuan(s.fee_fen)}元\n" for s in lines)


def receipt(*, order_id: object, gateway: str, transaction_id: str, paid_at: datetime, lines: Sequence[Line], refund_fen: int = 0) -> str:
    """The receipt lists what the money bought; any part going back is announced, not receipted."""
    amount = sum(s.fee_fen for s in lines)
    returning = f"其余{yuan(refund_fen)}元未能报考成功，将原路退回，退款完成后另行通知。\n" if refund_fen else ""
    return (
        "您好！\n\n您的CET报名费已支付成功。\n"
        f"订单号：{order_id}\n支付方式：{GATEWAY_NAMES.get(gateway, gateway)}\n"
        f"交易号：{transaction_id}\n金额：{yuan(amount)}元\n支付时间：{_when(paid_at)}（北京时间）\n"
        f"科目数：{len(lines)}\n{_lines(lines)}{returning}\n"
        "报名信息页面中的“已支付”状态即为报名成功的凭证，请登录报名网站查看。\n"
    )


def refund_notice(*, order_id: object, gateway: str, amount_fen: int, refunded_at: datetime, reason: str, lines: Sequence[Line]) -> str:
    why = REFUND_REASONS.get(reason, "所付款项未能用于报考")
    return (
        "您好！\n\n"
        f"因{why}，您支付的以下报名费未能报考成功，已原路退回（这不是缴费成功通知）。\n"
        f"订单号：{order_id}\n退款方式：原路退回{GATEWAY_NAMES.get(gateway, '原支付账户')}\n"
        f"退款金额：{yuan(amount_fen)}元\n退款时间：{_when(refunded_at)}（北京时间）\n"
        f"{_lines(lines)}\n"
        "到账时间以支付平台及银行为准。报名信息页面中该科目显示为“已退款”。\n"
    )
