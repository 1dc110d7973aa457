"""Refunds, reconciliation runs and throttles on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.clock import Clock
from cet_shared.ratelimit import RateLimit
from payment.db.tables import attempts, payments, reconciliation_runs, refunds
from payment.domain.model import PendingRefund, Refund
from payment.domain.money_states import RefundView

REFUND_FIELDS = tuple(Refund.__dataclass_fields__)


class SqlRefunds:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def request(self, refund: Refund) -> bool:
        values = {k: v for k, v in refund.__dict__.items() if k not in ("status", "attempts")}
        created = await self.session.execute(
            pg_insert(refunds).values(**values).on_conflict_do_nothing(index_elements=["payment_id", "enrolment_key"]).returning(refunds.c.refund_id)
        )
        return created.first() is not None

    async def keys_of(self, payment_id: uuid.UUID) -> set[str]:
        return set((await self.session.execute(select(refunds.c.enrolment_key).where(refunds.c.payment_id == payment_id))).scalars())

    async def total_of(self, payment_id: uuid.UUID) -> int:
        return int(await self.session.scalar(select(func.coalesce(func.sum(refunds.c.amount_fen), 0)).where(refunds.c.payment_id == payment_id)) or 0)

    async def next_pending(self) -> PendingRefund | None:
        row: Any = (
            await self.session.execute(
                select(refunds, payments.c.gateway, payments.c.transaction_id, attempts.c.out_trade_no)
                .join(payments, payments.c.payment_id == refunds.c.payment_id)
                .join(attempts, attempts.c.attempt_id == payments.c.attempt_id)
                .where(refunds.c.status == "pending")
                .order_by(refunds.c.attempts, refunds.c.created_at)
                .limit(1)
                .with_for_update(of=refunds, skip_locked=True)
            )
        ).first()
        if row is None:
            return None
        refund = Refund(**{name: getattr(row, name) for name in REFUND_FIELDS} | {"enrolment_ids": list(row.enrolment_ids)})
        return PendingRefund(refund, row.gateway, row.transaction_id, row.out_trade_no)

    async def failed_attempt(self, refund_id: uuid.UUID, *, attempts: int, error: str, failed: bool) -> None:
        await self.session.execute(
            update(refunds).where(refunds.c.refund_id == refund_id).values(attempts=attempts, last_error=error[:500], status="failed" if failed else "pending")
        )

    async def completed(self, refund_id: uuid.UUID, *, at: datetime, fund_change: bool, attempts: int) -> None:
        await self.session.execute(
            update(refunds).where(refunds.c.refund_id == refund_id).values(status="completed", completed_at=at, fund_change=fund_change, attempts=attempts)
        )

    async def views(self, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[RefundView]]:
        rows = await self.session.execute(
            select(refunds.c.order_id, refunds.c.status, refunds.c.amount_fen, refunds.c.reason, refunds.c.enrolment_ids)
            .where(refunds.c.order_id.in_(order_ids))
            .order_by(refunds.c.created_at)
        )
        views: dict[uuid.UUID, list[RefundView]] = {}
        for r in rows:
            views.setdefault(r.order_id, []).append(RefundView(r.status, r.amount_fen, r.reason, tuple(r.enrolment_ids)))
        return views


class SqlReconciliationRuns:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, key: str) -> bool:
        # A transaction-level advisory lock: released by the commit or rollback that ends the run.
        return bool(await self.session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": key}))

    async def completed(self, gateway: str, day: date) -> bool:
        done = await self.session.scalar(
            select(func.count())
            .select_from(reconciliation_runs)
            .where(reconciliation_runs.c.gateway == gateway, reconciliation_runs.c.bill_date == day, reconciliation_runs.c.status == "completed")
        )
        return bool(done)

    async def start(self, run_id: uuid.UUID, gateway: str, day: date, at: datetime) -> None:
        await self.session.execute(insert(reconciliation_runs).values(run_id=run_id, gateway=gateway, bill_date=day, started_at=at, status="running"))

    async def finish(self, run_id: uuid.UUID, *, status: str, at: datetime, summary: dict[str, Any]) -> None:
        await self.session.execute(
            update(reconciliation_runs).where(reconciliation_runs.c.run_id == run_id).values(status=status, finished_at=at, summary=summary)
        )


class SqlThrottles:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def consume(self, limit: RateLimit, subject: str, *, clock: Clock) -> None:
        await limit.consume(self.session, subject, clock=clock)

    async def count(self, limit: RateLimit, subject: str, *, clock: Clock) -> int:
        return await limit.count(self.session, subject, clock=clock)

    async def record(self, limit: RateLimit, subject: str, *, clock: Clock) -> None:
        await limit.record(self.session, subject, clock=clock)
