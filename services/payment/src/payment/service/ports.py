"""What payment's use cases need from storage and from the gateways, as small protocols: db/
implements the storage on PostgreSQL, tests/unit/conftest.py in memory. A use case enters the unit
of work, reads and changes through its repositories, publishes events, and commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from cet_shared.audit import AuditTrail
from cet_shared.clock import Clock
from cet_shared.events.envelope import Event
from cet_shared.ratelimit import RateLimit
from payment.domain.model import (
    Attempt,
    Conflict,
    Finding,
    Order,
    OrderLine,
    PaymentRecord,
    PendingRefund,
    ReceivedNotification,
    Refund,
    Subject,
)
from payment.domain.money_states import RefundView
from payment.gateways.base import GatewayAdapter

Gateways = Mapping[str, GatewayAdapter]


class InOpenOrder(Exception):
    """Y1: the database refused a second open order over a subject."""


class Orders(Protocol):
    async def subjects(self, enrolment_ids: list[uuid.UUID], *, lock: bool = False) -> list[Subject]:
        """In id order; locked, two concurrent orders over the same subjects serialise."""

    async def known_count(self, enrolment_ids: set[uuid.UUID]) -> int: ...
    async def has_bound_registration(self, passport_id: str) -> bool: ...
    async def registration_owner(self, registration_id: uuid.UUID) -> str | None: ...
    async def placed_by(self, registration_id: uuid.UUID) -> set[str]:
        """Who placed orders for the registration."""

    async def open_orders_with(self, enrolment_ids: set[uuid.UUID]) -> set[uuid.UUID]: ...
    async def items(self, order_id: uuid.UUID) -> set[uuid.UUID]: ...
    async def add(self, order: Order, subjects: list[Subject]) -> None:
        """Raises InOpenOrder when a subject is in another open order."""

    async def get(self, order_id: uuid.UUID, *, lock: bool = False) -> Order | None: ...
    async def lines(self, order_id: uuid.UUID) -> list[OrderLine]: ...
    async def subject_lines(self, enrolment_ids: list[uuid.UUID]) -> list[OrderLine]: ...
    async def of_registration(self, registration_id: uuid.UUID) -> list[Order]: ...
    async def earliest_expiry(self, order_id: uuid.UUID) -> datetime | None: ...
    async def mark_paid(self, order_id: uuid.UUID, paid_at: datetime) -> None:
        """The order paid, its subjects free of open orders."""

    async def attempt(self, gateway: str, out_trade_no: str) -> Attempt | None: ...
    async def attempt_of(self, order_id: uuid.UUID, gateway: str) -> Attempt | None: ...
    async def add_attempt(self, attempt: Attempt) -> None: ...
    async def set_bank(self, attempt_id: uuid.UUID, bank: str | None) -> None: ...
    async def unpaid_attempts(self, registration_id: uuid.UUID) -> list[Attempt]: ...


class Payments(Protocol):
    async def with_transaction(self, gateway: str, transaction_id: str) -> list[PaymentRecord]:
        """Oldest first."""

    async def add(self, payment: PaymentRecord) -> bool:
        """False when this (gateway, attempt, transaction id) is recorded already."""

    async def applied_of(self, order_id: uuid.UUID) -> PaymentRecord | None:
        """The order's applied payment, locked for update."""

    async def amount_for(self, gateway: str, transaction_id: str, out_trade_no: str) -> int | None: ...
    async def paid_between(self, gateway: str, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
        """(out_trade_no, transaction_id, amount_fen) of payments made in [start, end)."""

    async def record_conflict(self, conflict: Conflict) -> tuple[int, int]:
        """Insert, or count once more (and settle when `conflict.status` is settled); (id, times_seen)."""

    async def add_findings(self, findings: list[Finding], *, run_id: uuid.UUID | None) -> None: ...
    async def conflict(self, conflict_id: int) -> Conflict | None: ...
    async def conflicts(self, status: str | None, limit: int) -> list[Conflict]:
        """Newest first."""

    async def unsettled_conflicts(self, gateway: str | None) -> list[int]: ...
    async def conflict_to_support(self, conflict_id: int, why: str) -> None:
        """Unless it was settled meanwhile."""

    async def settle_conflict(self, conflict_id: int, resolution: str, at: datetime) -> None:
        """Unless it was settled meanwhile."""

    async def conflict_handled_by(self, conflict_id: int, agent: str) -> None: ...
    async def record_notification(self, notification: ReceivedNotification) -> int: ...
    async def set_notification_outcome(self, notification_id: int, outcome: str) -> None: ...


class Refunds(Protocol):
    async def request(self, refund: Refund) -> bool:
        """False when the same enrolments of this payment were already queued."""

    async def keys_of(self, payment_id: uuid.UUID) -> set[str]: ...
    async def total_of(self, payment_id: uuid.UUID) -> int: ...
    async def next_pending(self) -> PendingRefund | None:
        """The least tried pending refund, locked; one another worker holds is skipped."""

    async def failed_attempt(self, refund_id: uuid.UUID, *, attempts: int, error: str, failed: bool) -> None: ...
    async def completed(self, refund_id: uuid.UUID, *, at: datetime, fund_change: bool, attempts: int) -> None: ...
    async def views(self, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[RefundView]]: ...


class ReconciliationRuns(Protocol):
    async def lock(self, key: str) -> bool:
        """Held until the transaction ends; False when another holds it."""

    async def completed(self, gateway: str, day: date) -> bool: ...
    async def start(self, run_id: uuid.UUID, gateway: str, day: date, at: datetime) -> None: ...
    async def finish(self, run_id: uuid.UUID, *, status: str, at: datetime, summary: dict[str, Any]) -> None: ...


class Throttles(Protocol):
    async def consume(self, limit: RateLimit, subject: str, *, clock: Clock) -> None: ...
    async def count(self, limit: RateLimit, subject: str, *, clock: Clock) -> int: ...
    async def record(self, limit: RateLimit, subject: str, *, clock: Clock) -> None: ...


class PaymentUnitOfWork(Protocol):
    """Enter it (`async with uow:`) for one transaction; it can be entered again afterwards."""

    audit: AuditTrail
    orders: Orders
    payments: Payments
    refunds: Refunds
    reconciliation: ReconciliationRuns
    throttles: Throttles

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None: ...
    async def publish(self, event: Event, *, key: str) -> None: ...
    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], PaymentUnitOfWork]
