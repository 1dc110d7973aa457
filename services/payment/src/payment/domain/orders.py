"""Pure rules of orders and checkout (Y1, Y2)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cet_shared.clock import to_shanghai
from payment.domain.money import fen_to_yuan

ALIPAY = "alipay"
PAYEASE = "payease"
GATEWAY_LABELS = {ALIPAY: "支付宝", PAYEASE: "首信易支付"}

# Banks PayEase (首信易支付) lets a candidate choose; the code is its v_pmode value.
PAYEASE_BANKS: dict[str, str] = {
    "boc": "中国银行",
    "icbc": "中国工商银行",
    "ccb": "中国建设银行",
    "abc": "中国农业银行",
    "bocom": "交通银行",
    "cmb": "招商银行",
}


@dataclass(frozen=True)
class PayableEnrolment:
    enrolment_id: uuid.UUID
    registration_id: uuid.UUID
    owner_passport_id: str
    status: str
    fee_fen: int
    expires_at: datetime


class NotPayable(Exception):
    def __init__(self, code: str, title: str) -> None:
        super().__init__(code)
        self.code = code
        self.title = title


def check_payable(enrolments: Sequence[PayableEnrolment], *, requested: Iterable[uuid.UUID], passport_id: str, now: datetime) -> None:
    """Y1: only the candidate's own unpaid, unexpired enrolments of one registration."""
    requested = set(requested)
    found = {e.enrolment_id for e in enrolments}
    if not requested or requested - found:
        raise NotPayable("enrolment_not_found", "所选科目不存在")
    if any(e.owner_passport_id != passport_id for e in enrolments):
        raise NotPayable("enrolment_not_found", "所选科目不存在")
    if len({e.registration_id for e in enrolments}) != 1:
        raise NotPayable("enrolments_mixed", "只能同时支付同一报名信息下的科目")
    for e in enrolments:
        if e.status == "paid":
            raise NotPayable("enrolment_already_paid", "所选科目已支付，无需重复支付")
        if e.status != "unpaid" or e.expires_at <= now:
            raise NotPayable("enrolment_expired", "所选科目已取消或超过24小时未支付被删除，请重新报考")
        if e.fee_fen <= 0:
            raise NotPayable("fee_not_set", "科目费用未设置，暂不能支付")


def order_amount(enrolments: Sequence[PayableEnrolment]) -> int:
    """The amount is always computed here from the fees, never taken from the client."""
    return sum(e.fee_fen for e in enrolments)


def confirmation_text(gateway: str, amount_fen: int, bank: str | None = None) -> str:
    """Y2: "您选择首信易支付 中国银行进行支付, 支付金额为0.02元人民币"."""
    label = GATEWAY_LABELS[gateway]
    if gateway == PAYEASE:
        label = f"{label} {PAYEASE_BANKS[bank or '']}"
    return f"您选择{label}进行支付, 支付金额为{fen_to_yuan(amount_fen)}元人民币"


def new_out_trade_no(gateway: str, *, now: datetime, merchant_id: str) -> str:
    """The order number a gateway sees. PayEase requires `yyyymmdd-<merchant id>-<serial>`;
    Alipay takes up to 64 letters and digits. The date is the Beijing date, as the gateways use."""
    day = to_shanghai(now).strftime("%Y%m%d")
    serial = secrets.token_hex(8).upper()
    if gateway == PAYEASE:
        return f"{day}-{merchant_id}-{serial}"
    return f"CET{day}{serial}"
