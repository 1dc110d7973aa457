"""Recorded payments, transaction conflicts, findings and received notifications on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment.db.tables import attempts, notifications, payment_conflicts, payments, reconciliation_findings
from payment.domain.model import Conflict, Finding, PaymentRecord, ReceivedNotification

CONFLICT_FIELDS = tuple(Conflict.__dataclass_fields__)


def _payment(row: Any) -> PaymentRecord:
    return PaymentRecord(**{name: getattr(row, name) for name in PaymentRecord.__dataclass_fields__})


def _conflict(row: Any) -> Conflict:
    return Conflict(**{name: getattr(row, name) for name in CONFLICT_FIELDS})


class SqlPayments:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def with_transaction(self, gateway: str, transaction_id: str) -> list[PaymentRecord]:
        rows = await self.session.execute(
            select(payments).where(payments.c.gateway == gateway, payments.c.transaction_id == transaction_id).order_by(payments.c.created_at)
        )
        return [_payment(r) for r in rows]

    async def add(self, payment: PaymentRecord) -> bool:
        inserted = await self.session.execute(
            pg_insert(payments).values(**payment.__dict__).on_conflict_do_nothing(constraint="payments_once_per_attempt").returning(payments.c.payment_id)
        )
        return inserted.first() is not None

    async def applied_of(self, order_id: uuid.UUID) -> PaymentRecord | None:
        row = (await self.session.execute(select(payments).where(payments.c.order_id == order_id, payments.c.status == "applied").with_for_update())).first()
        return None if row is None else _payment(row)

    async def amount_for(self, gateway: str, transaction_id: str, out_trade_no: str) -> int | None:
        amount: int | None = await self.session.scalar(
            select(payments.c.amount_fen)
            .join(attempts, attempts.c.attempt_id == payments.c.attempt_id)
            .where(payments.c.gateway == gateway, payments.c.transaction_id == transaction_id, attempts.c.out_trade_no == out_trade_no)
        )
        return amount

    async def paid_between(self, gateway: str, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
        rows = await self.session.execute(
            select(attempts.c.out_trade_no, payments.c.transaction_id, payments.c.amount_fen)
            .join(attempts, attempts.c.attempt_id == payments.c.attempt_id)
            .where(and_(payments.c.gateway == gateway, payments.c.paid_at >= start, payments.c.paid_at < end))
        )
        return [(r.out_trade_no, r.transaction_id, r.amount_fen) for r in rows]

    async def record_conflict(self, conflict: Conflict) -> tuple[int, int]:
        values = {k: v for k, v in conflict.__dict__.items() if k not in ("id", "times_seen", "resolved_by")}
        settled = conflict.status == "settled"
        row = (
            await self.session.execute(
                pg_insert(payment_conflicts)
                .values(**values)
                .on_conflict_do_update(
                    constraint="payment_conflicts_once",
                    set_={"times_seen": payment_conflicts.c.times_seen + 1}
                    | ({"status": "settled", "resolution": conflict.resolution, "resolved_at": conflict.resolved_at} if settled else {}),
                )
                .returning(payment_conflicts.c.id, payment_conflicts.c.times_seen)
            )
        ).one()
        return row.id, row.times_seen

    async def add_findings(self, findings: list[Finding], *, run_id: uuid.UUID | None) -> None:
        if findings:
            await self.session.execute(insert(reconciliation_findings), [{"run_id": run_id, **f.__dict__} for f in findings])

    async def conflict(self, conflict_id: int) -> Conflict | None:
        row = (await self.session.execute(select(payment_conflicts).where(payment_conflicts.c.id == conflict_id))).first()
        return None if row is None else _conflict(row)

    async def conflicts(self, status: str | None, limit: int) -> list[Conflict]:
        query = select(payment_conflicts).order_by(payment_conflicts.c.id.desc()).limit(limit)
        if status:
            query = query.where(payment_conflicts.c.status == status)
        return [_conflict(r) for r in await self.session.execute(query)]

    async def unsettled_conflicts(self, gateway: str | None) -> list[int]:
        query = select(payment_conflicts.c.id).where(payment_conflicts.c.status != "settled").order_by(payment_conflicts.c.id)
        if gateway:
            query = query.where(payment_conflicts.c.gateway == gateway)
        return list((await self.session.execute(query)).scalars())

    async def conflict_to_support(self, conflict_id: int, why: str) -> None:
        await self.session.execute(
            update(payment_conflicts)
            .where(payment_conflicts.c.id == conflict_id, payment_conflicts.c.status != "settled")
            .values(status="support", resolution=why[:300])
        )

    async def settle_conflict(self, conflict_id: int, resolution: str, at: datetime) -> None:
        await self.session.execute(
            update(payment_conflicts)
            .where(payment_conflicts.c.id == conflict_id, payment_conflicts.c.status != "settled")
            .values(status="settled", resolution=resolution, resolved_at=at)
        )

    async def conflict_handled_by(self, conflict_id: int, agent: str) -> None:
        await self.session.execute(update(payment_conflicts).where(payment_conflicts.c.id == conflict_id).values(resolved_by=agent[:64]))

    async def record_notification(self, notification: ReceivedNotification) -> int:
        inserted = await self.session.execute(insert(notifications).values(**notification.__dict__).returning(notifications.c.id))
        return int(inserted.scalar_one())

    async def set_notification_outcome(self, notification_id: int, outcome: str) -> None:
        await self.session.execute(update(notifications).where(notifications.c.id == notification_id).values(outcome=outcome[:200]))
