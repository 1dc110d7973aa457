"""Request and response bodies. Amounts are integer fen; `*_yuan` fields are for display only."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from cet_shared.strict import Strict
from payment.domain.money import fen_to_yuan
from payment.domain.money_states import LABELS, REASON_LABELS
from payment.service.orders import Checkout, OrderSummary

OrderStatus = Literal["preview", "open", "paid", "closed", "refund_pending", "refunded", "refund_failed"]
LineStatus = Literal["unpaid", "paid", "refund_pending", "refunded", "refund_failed"]
RefundStatus = Literal["refund_pending", "refunded", "refund_failed"]


class OrderRequest(Strict):
    # The amount is never accepted from the client: only which subjects to pay.
    enrolment_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)


class CheckoutRequest(Strict):
    gateway: Literal["alipay", "payease"]
    bank: str | None = Field(default=None, max_length=16)


class OrderLineOut(BaseModel):
    enrolment_id: uuid.UUID
    subject_code: str
    subject_name: str
    fee_fen: int
    fee_yuan: str
    status: LineStatus
    status_label: str = Field(description="页面上显示的状态")


class RefundOut(BaseModel):
    status: Literal["refund_pending", "refunded", "refund_failed"]
    status_label: str
    amount_fen: int
    amount_yuan: str
    reason: str
    reason_label: str
    enrolment_ids: list[uuid.UUID]


class OrderOut(BaseModel):
    order_id: uuid.UUID | None
    registration_id: uuid.UUID
    status: OrderStatus = Field(description="preview：尚未生成的订单（去支付）；refund_*：订单款项全部退回")
    status_label: str
    amount_fen: int
    amount_yuan: str
    lines: list[OrderLineOut]
    confirmation: str
    refund_status: Literal["refund_pending", "refunded", "refund_failed"] | None = None
    refunds: list[RefundOut] = []

    @classmethod
    def of(cls, summary: OrderSummary) -> OrderOut:
        names = "、".join(f"({line.subject_code}) {line.subject_name}" for line in summary.lines)
        return cls(
            order_id=summary.order_id,
            registration_id=summary.registration_id,
            status=summary.status,
            status_label=LABELS.get(summary.status, summary.status),
            amount_fen=summary.amount_fen,
            amount_yuan=fen_to_yuan(summary.amount_fen),
            lines=[OrderLineOut(**line.__dict__, fee_yuan=fen_to_yuan(line.fee_fen), status_label=LABELS[line.status]) for line in summary.lines],
            confirmation=f"您将支付以下科目：{names}，共计{fen_to_yuan(summary.amount_fen)}元",
            refund_status=summary.refund_status,
            refunds=[
                RefundOut(
                    status=r.state,
                    status_label=LABELS[r.state],
                    amount_fen=r.amount_fen,
                    amount_yuan=fen_to_yuan(r.amount_fen),
                    reason=r.reason,
                    reason_label=REASON_LABELS.get(r.reason, "款项原路退回"),
                    enrolment_ids=list(r.enrolment_ids),
                )
                for r in summary.refunds
            ],
        )


class RedirectOut(BaseModel):
    method: Literal["GET", "POST"]
    url: str
    fields: dict[str, str]
    charset: str


class CheckoutOut(BaseModel):
    order_id: uuid.UUID
    gateway: Literal["alipay", "payease"]
    amount_fen: int
    amount_yuan: str
    confirmation: str
    redirect: RedirectOut

    @classmethod
    def of(cls, c: Checkout) -> CheckoutOut:
        return cls(
            order_id=c.order_id,
            gateway=c.gateway,
            amount_fen=c.amount_fen,
            amount_yuan=fen_to_yuan(c.amount_fen),
            confirmation=c.confirmation,
            redirect=RedirectOut(**c.redirect.__dict__),
        )


class GatewayOption(BaseModel):
    gateway: Literal["alipay", "payease"]
    label: str
    banks: dict[str, str]


class RefreshedOrder(BaseModel):
    order_id: uuid.UUID
    status: OrderStatus
    settled_now: bool
    status_label: str = ""
    refund_status: Literal["refund_pending", "refunded", "refund_failed"] | None = None
