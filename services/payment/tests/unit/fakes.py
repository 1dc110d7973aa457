"""Payment's repositories in memory, for the unit tier (services/payment/tests/unit).

The fakes keep what the use cases rely on from the database: all-or-nothing transactions, a
payment once per (gateway, attempt, transaction id), a refund once per (payment, enrolments), a
subject in at most one open order. Audit entries live in the transaction's state like the rows."""

from __future__ import annotations

import copy
import itertools
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

from cet_shared.clock import Clock
from cet_shared.events.envelope import Event
from cet_shared.problems import too_many_requests
from cet_shared.ratelimit import RateLimit
from cet_shared.testing import AuditEntry, MemoryAuditTrail
from payment.domain.model import Attempt, Conflict, Finding, Order, OrderLine, PaymentRecord, PendingRefund, ReceivedNotification, Refund, Subject
from payment.domain.money_states import RefundView
from payment.service.ports import InOpenOrder


@dataclass
class State:
    subjects: dict[uuid.UUID, Subject] = field(default_factory=dict)
    registrations: dict[uuid.UUID, str] = field(default_factory=dict)  # bound registration → owner
    orders: dict[uuid.UUID, Order] = field(default_factory=dict)
    items: dict[tuple[uuid.UUID, uuid.UUID], bool] = field(default_factory=dict)  # (order, enrolment) → open
    attempts: dict[uuid.UUID, Attempt] = field(default_factory=dict)
    payments: list[PaymentRecord] = field(default_factory=list)
    conflicts: dict[int, Conflict] = field(default_factory=dict)
    findings: list[tuple[uuid.UUID | None, Finding]] = field(default_factory=list)
    notifications: dict[int, ReceivedNotification] = field(default_factory=dict)
    refunds: dict[uuid.UUID, Refund] = field(default_factory=dict)
    runs: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    hits: dict[tuple[str, str, int], int] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)


class FakeOrders:
    def __init__(self, s: State) -> None:
        self.s = s

    async def subjects(self, enrolment_ids: list[uuid.UUID], *, lock: bool = False) -> list[Subject]:
        return sorted((self.s.subjects[e] for e in set(enrolment_ids) if e in self.s.subjects), key=lambda x: x.enrolment_id)

    async def known_count(self, enrolment_ids: set[uuid.UUID]) -> int:
        return sum(e in self.s.subjects for e in enrolment_ids)

    async def has_bound_registration(self, passport_id: str) -> bool:
        return passport_id in self.s.registrations.values()

    async def registration_owner(self, registration_id: uuid.UUID) -> str | None:
        return self.s.registrations.get(registration_id)

    async def placed_by(self, registration_id: uuid.UUID) -> set[str]:
        return {o.passport_id for o in self.s.orders.values() if o.registration_id == registration_id}

    async def open_orders_with(self, enrolment_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return {o for (o, e), is_open in self.s.items.items() if is_open and e in enrolment_ids}

    async def items(self, order_id: uuid.UUID) -> set[uuid.UUID]:
        return {e for (o, e) in self.s.items if o == order_id}

    async def add(self, order: Order, subjects: list[Subject]) -> None:
        if await self.open_orders_with({s.enrolment_id for s in subjects}):
            raise InOpenOrder()
        self.s.orders[order.order_id] = order
        self.s.items.update({(order.order_id, s.enrolment_id): True for s in subjects})

    async def get(self, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
        order = self.s.orders.get(order_id)
        return None if order is None else replace(order, owner=self.s.registrations.get(order.registration_id))

    async def lines(self, order_id: uuid.UUID) -> list[OrderLine]:
        return await self.subject_lines(sorted(await self.items(order_id)))

    async def subject_lines(self, enrolment_ids: list[uuid.UUID]) -> list[OrderLine]:
        found = [self.s.subjects[e] for e in enrolment_ids]
        return [OrderLine(x.enrolment_id, x.subject_code, x.subject_name, x.fee_fen) for x in sorted(found, key=lambda x: x.subject_code)]

    async def of_registration(self, registration_id: uuid.UUID) -> list[Order]:
        mine = [o for o in self.s.orders.values() if o.registration_id == registration_id]
        return [o for o in [await self.get(o.order_id) for o in sorted(mine, key=lambda o: o.created_at)] if o]

    async def earliest_expiry(self, order_id: uuid.UUID) -> datetime | None:
        return min((self.s.subjects[e].expires_at for e in await self.items(order_id)), default=None)

    async def mark_paid(self, order_id: uuid.UUID, paid_at: datetime) -> None:
        self.s.orders[order_id] = replace(self.s.orders[order_id], status="paid")
        self.s.items.update({key: False for key in self.s.items if key[0] == order_id})

    async def attempt(self, gateway: str, out_trade_no: str) -> Attempt | None:
        return next((a for a in self.s.attempts.values() if (a.gateway, a.out_trade_no) == (gateway, out_trade_no)), None)

    async def attempt_of(self, order_id: uuid.UUID, gateway: str) -> Attempt | None:
        return next((a for a in self.s.attempts.values() if (a.order_id, a.gateway) == (order_id, gateway)), None)

    async def add_attempt(self, attempt: Attempt) -> None:
        self.s.attempts[attempt.attempt_id] = attempt

    async def set_bank(self, attempt_id: uuid.UUID, bank: str | None) -> None:
        self.s.attempts[attempt_id] = replace(self.s.attempts[attempt_id], bank=bank)

    async def unpaid_attempts(self, registration_id: uuid.UUID) -> list[Attempt]:
        unpaid = {o.order_id for o in self.s.orders.values() if o.registration_id == registration_id and o.status != "paid"}
        return [a for a in self.s.attempts.values() if a.order_id in unpaid]


class FakePayments:
    ids = itertools.count(1)

    def __init__(self, s: State) -> None:
        self.s = s

    async def with_transaction(self, gateway: str, transaction_id: str) -> list[PaymentRecord]:
        return [p for p in self.s.payments if (p.gateway, p.transaction_id) == (gateway, transaction_id)]

    async def add(self, payment: PaymentRecord) -> bool:
        key = (payment.gateway, payment.attempt_id, payment.transaction_id)
        if any((p.gateway, p.attempt_id, p.transaction_id) == key for p in self.s.payments):
            return False
        self.s.payments.append(payment)
        return True

    async def applied_of(self, order_id: uuid.UUID) -> PaymentRecord | None:
        return next((p for p in self.s.payments if p.order_id == order_id and p.status == "applied"), None)

    async def amount_for(self, gateway: str, transaction_id: str, out_trade_no: str) -> int | None:
        for p in await self.with_transaction(gateway, transaction_id):
            if self.s.attempts[p.attempt_id].out_trade_no == out_trade_no:
                return p.amount_fen
        return None

    async def paid_between(self, gateway: str, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
        return [
            (self.s.attempts[p.attempt_id].out_trade_no, p.transaction_id, p.amount_fen)
            for p in self.s.payments
            if p.gateway == gateway and start <= p.paid_at < end
        ]

    async def record_conflict(self, conflict: Conflict) -> tuple[int, int]:
        key = (conflict.gateway, conflict.transaction_id, conflict.out_trade_no)
        for known in self.s.conflicts.values():
            if (known.gateway, known.transaction_id, known.out_trade_no) == key:
                again = replace(known, times_seen=known.times_seen + 1)
                if conflict.status == "settled":
                    again = replace(again, status="settled", resolution=conflict.resolution, resolved_at=conflict.resolved_at)
                self.s.conflicts[known.id] = again
                return known.id, again.times_seen
        conflict_id = next(self.ids)
        self.s.conflicts[conflict_id] = replace(conflict, id=conflict_id, times_seen=1)
        return conflict_id, 1

    async def add_findings(self, findings: list[Finding], *, run_id: uuid.UUID | None) -> None:
        self.s.findings.extend((run_id, f) for f in findings)

    async def conflict(self, conflict_id: int) -> Conflict | None:
        return self.s.conflicts.get(conflict_id)

    async def conflicts(self, status: str | None, limit: int) -> list[Conflict]:
        return [c for c in sorted(self.s.conflicts.values(), key=lambda c: -c.id) if status in (None, c.status)][:limit]

    async def unsettled_conflicts(self, gateway: str | None) -> list[int]:
        return sorted(c.id for c in self.s.conflicts.values() if c.status != "settled" and gateway in (None, c.gateway))

    async def conflict_to_support(self, conflict_id: int, why: str) -> None:
        if self.s.conflicts[conflict_id].status != "settled":
            self.s.conflicts[conflict_id] = replace(self.s.conflicts[conflict_id], status="support", resolution=why[:300])

    async def settle_conflict(self, conflict_id: int, resolution: str, at: datetime) -> None:
        if self.s.conflicts[conflict_id].status != "settled":
            self.s.conflicts[conflict_id] = replace(self.s.conflicts[conflict_id], status="settled", resolution=resolution, resolved_at=at)

    async def conflict_handled_by(self, conflict_id: int, agent: str) -> None:
        self.s.conflicts[conflict_id] = replace(self.s.conflicts[conflict_id], resolved_by=agent[:64])

    async def record_notification(self, notification: ReceivedNotification) -> int:
        notification_id = next(self.ids)
        self.s.notifications[notification_id] = notification
        return notification_id

    async def set_notification_outcome(self, notification_id: int, outcome: str) -> None:
        self.s.notifications[notification_id] = replace(self.s.notifications[notification_id], outcome=outcome[:200])


class FakeRefunds:
    def __init__(self, s: State) -> None:
        self.s = s

    async def request(self, refund: Refund) -> bool:
        if any((r.payment_id, r.enrolment_key) == (refund.payment_id, refund.enrolment_key) for r in self.s.refunds.values()):
            return False
        self.s.refunds[refund.refund_id] = refund
        return True

    async def keys_of(self, payment_id: uuid.UUID) -> set[str]:
        return {r.enrolment_key for r in self.s.refunds.values() if r.payment_id == payment_id}

    async def total_of(self, payment_id: uuid.UUID) -> int:
        return sum(r.amount_fen for r in self.s.refunds.values() if r.payment_id == payment_id)

    async def next_pending(self) -> PendingRefund | None:
        pending = sorted((r for r in self.s.refunds.values() if r.status == "pending"), key=lambda r: (r.attempts, r.created_at))
        if not pending:
            return None
        payment = next(p for p in self.s.payments if p.payment_id == pending[0].payment_id)
        return PendingRefund(pending[0], payment.gateway, payment.transaction_id, self.s.attempts[payment.attempt_id].out_trade_no)

    async def failed_attempt(self, refund_id: uuid.UUID, *, attempts: int, error: str, failed: bool) -> None:
        self.s.refunds[refund_id] = replace(self.s.refunds[refund_id], attempts=attempts, status="failed" if failed else "pending")

    async def completed(self, refund_id: uuid.UUID, *, at: datetime, fund_change: bool, attempts: int) -> None:
        self.s.refunds[refund_id] = replace(self.s.refunds[refund_id], status="completed", attempts=attempts)

    async def views(self, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[RefundView]]:
        views: dict[uuid.UUID, list[RefundView]] = {}
        for r in sorted(self.s.refunds.values(), key=lambda r: r.created_at):
            if r.order_id in order_ids:
                views.setdefault(r.order_id, []).append(RefundView(r.status, r.amount_fen, r.reason, tuple(r.enrolment_ids)))
        return views


class FakeRuns:
    def __init__(self, s: State) -> None:
        self.s = s

    async def lock(self, key: str) -> bool:
        return True

    async def completed(self, gateway: str, day: date) -> bool:
        return any(r["gateway"] == gateway and r["day"] == day and r["status"] == "completed" for r in self.s.runs.values())

    async def start(self, run_id: uuid.UUID, gateway: str, day: date, at: datetime) -> None:
        self.s.runs[run_id] = {"gateway": gateway, "day": day, "status": "running"}

    async def finish(self, run_id: uuid.UUID, *, status: str, at: datetime, summary: dict[str, Any]) -> None:
        self.s.runs[run_id] |= {"status": status, "summary": summary}


class FakeThrottles:
    def __init__(self, s: State) -> None:
        self.s = s

    def _key(self, limit: RateLimit, subject: str, clock: Clock) -> tuple[str, str, int]:
        return (limit.name, subject, int(clock.now().timestamp()) // int(limit.window.total_seconds()))

    async def consume(self, limit: RateLimit, subject: str, *, clock: Clock) -> None:
        await self.record(limit, subject, clock=clock)
        if await self.count(limit, subject, clock=clock) > limit.limit:
            raise too_many_requests(1)

    async def count(self, limit: RateLimit, subject: str, *, clock: Clock) -> int:
        return self.s.hits.get(self._key(limit, subject, clock), 0)

    async def record(self, limit: RateLimit, subject: str, *, clock: Clock) -> None:
        key = self._key(limit, subject, clock)
        self.s.hits[key] = self.s.hits.get(key, 0) + 1


class Store:
    """What every unit of work of one test shares: the committed state."""

    def __init__(self) -> None:
        self.committed = State()


class FakeUnitOfWork:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def __aenter__(self) -> Self:
        self.state = copy.deepcopy(self.store.committed)
        self.orders, self.payments, self.refunds = FakeOrders(self.state), FakePayments(self.state), FakeRefunds(self.state)
        self.reconciliation, self.throttles = FakeRuns(self.state), FakeThrottles(self.state)
        self.audit = MemoryAuditTrail(self.state.audit)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        del self.state  # whatever was not committed is gone

    async def publish(self, event: Event, *, key: str) -> None:
        self.state.outbox.append(event)

    async def commit(self) -> None:
        self.store.committed = copy.deepcopy(self.state)

    @property
    def committed(self) -> State:
        return self.store.committed

    def published(self, event_type: type[Event]) -> list[Any]:
        return [e for e in self.committed.outbox if isinstance(e, event_type)]
