"""What payment's use cases pass around: the projected subjects, orders and their checkout
attempts, recorded payments, refunds, transaction conflicts and reconciliation findings. Pure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Subject:
    """An enrolment as enrolment announced it (the projection), with its registration's state."""

    enrolment_id: uuid.UUID
    registration_id: uuid.UUID
    passport_id: str  # the registration's current owner when known (E12), else the enrolment's
    subject_code: str
    subject_name: str
    fee_fen: int
    status: str  # unpaid | paid | cancelled | expired; cancelled once the registration is released
    expires_at: datetime


@dataclass(frozen=True)
class Order:
    order_id: uuid.UUID
    registration_id: uuid.UUID
    passport_id: str  # who placed it
    amount_fen: int
    status: str  # open | paid | closed
    created_at: datetime
    owner: str | None = None  # the registration's current owner, when projected


@dataclass(frozen=True)
class OrderLine:
    enrolment_id: uuid.UUID
    subject_code: str
    subject_name: str
    fee_fen: int
    status: str = "unpaid"  # unpaid | paid | refund_pending | refunded | refund_failed


@dataclass(frozen=True)
class Attempt:
    """One order at one gateway: the number that gateway knows it by."""

    attempt_id: uuid.UUID
    order_id: uuid.UUID
    gateway: str
    out_trade_no: str
    bank: str | None
    created_at: datetime


@dataclass(frozen=True)
class PaymentRecord:
    payment_id: uuid.UUID
    order_id: uuid.UUID
    attempt_id: uuid.UUID
    gateway: str
    transaction_id: str
    amount_fen: int
    paid_at: datetime
    source: str  # notification | query | reconciliation
    status: str  # applied | surplus
    created_at: datetime


@dataclass(frozen=True)
class Refund:
    refund_id: uuid.UUID
    payment_id: uuid.UUID
    order_id: uuid.UUID
    registration_id: uuid.UUID
    enrolment_ids: list[uuid.UUID]
    enrolment_key: str
    amount_fen: int
    reason: str
    request_no: str
    created_at: datetime
    status: str = "pending"  # pending | completed | failed
    attempts: int = 0


@dataclass(frozen=True)
class PendingRefund:
    """A refund to send, with what its gateway needs to find the payment."""

    refund: Refund
    gateway: str
    transaction_id: str
    out_trade_no: str


@dataclass(frozen=True)
class Conflict:
    """A verified report whose transaction id is already recorded for another attempt or amount."""

    id: int
    gateway: str
    transaction_id: str
    out_trade_no: str
    order_id: uuid.UUID
    amount_fen: int
    source: str
    existing_payment_id: uuid.UUID
    existing_order_id: uuid.UUID
    existing_amount_fen: int
    status: str  # open | settled | support
    resolution: str | None
    times_seen: int
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True)
class Finding:
    kind: str  # transaction_conflict | settled | missing_there | amount_mismatch | unknown_order | conflict_*
    out_trade_no: str
    transaction_id: str
    gateway_amount_fen: int | None = None
    our_amount_fen: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class ReceivedNotification:
    """A notification as received, verified or not (kept for review either way)."""

    gateway: str
    received_at: datetime
    body: bytes
    content_type: str
    verified: bool
    outcome: str
    detail: str
    out_trade_no: str | None
    transaction_id: str | None
