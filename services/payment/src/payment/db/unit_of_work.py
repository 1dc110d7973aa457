"""Payment's unit of work on PostgreSQL: the shared transaction and outbox, with the service's
repositories bound to its session."""

from __future__ import annotations

from typing import Self

from cet_shared.audit import SessionAuditTrail
from cet_shared.db import UnitOfWork
from payment.db.order_store import SqlOrders
from payment.db.payment_store import SqlPayments
from payment.db.refund_store import SqlReconciliationRuns, SqlRefunds, SqlThrottles


class SqlPaymentUnitOfWork(UnitOfWork):
    audit: SessionAuditTrail
    orders: SqlOrders
    payments: SqlPayments
    refunds: SqlRefunds
    reconciliation: SqlReconciliationRuns
    throttles: SqlThrottles

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.audit = SessionAuditTrail(self.session)
        self.orders = SqlOrders(self.session)
        self.payments = SqlPayments(self.session)
        self.refunds = SqlRefunds(self.session)
        self.reconciliation = SqlReconciliationRuns(self.session)
        self.throttles = SqlThrottles(self.session)
        return self
