"""Orders, their items and checkout attempts, and the projected subjects, on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from payment.db.tables import attempts, enrolments, order_items, orders, registrations
from payment.domain.model import Attempt, Order, OrderLine, Subject
from payment.service.ports import InOpenOrder


def _attempt(row: Any) -> Attempt:
    return Attempt(row.attempt_id, row.order_id, row.gateway, row.out_trade_no, row.bank, row.created_at)


class SqlOrders:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def subjects(self, enrolment_ids: list[uuid.UUID], *, lock: bool = False) -> list[Subject]:
        query = (
            select(enrolments, registrations.c.passport_id.label("owner"), registrations.c.status.label("registration_status"))
            .outerjoin(registrations, registrations.c.registration_id == enrolments.c.registration_id)
            .where(enrolments.c.enrolment_id.in_(enrolment_ids))
            .order_by(enrolments.c.enrolment_id)
        )
        rows = await self.session.execute(query.with_for_update(of=enrolments) if lock else query)
        return [
            Subject(
                r.enrolment_id,
                r.registration_id,
                # The registration's current owner wins (E12 rebinding); the enrolment's own as fallback.
                r.owner or r.passport_id,
                r.subject_code,
                r.subject_name,
                r.fee_fen,
                r.status if r.registration_status != "released" else "cancelled",
                r.expires_at,
            )
            for r in rows
        ]

    async def known_count(self, enrolment_ids: set[uuid.UUID]) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(enrolments).where(enrolments.c.enrolment_id.in_(enrolment_ids))) or 0)

    async def has_bound_registration(self, passport_id: str) -> bool:
        found = await self.session.scalar(
            select(func.count()).select_from(registrations).where(registrations.c.passport_id == passport_id, registrations.c.status == "bound")
        )
        return bool(found)

    async def registration_owner(self, registration_id: uuid.UUID) -> str | None:
        owner: str | None = await self.session.scalar(select(registrations.c.passport_id).where(registrations.c.registration_id == registration_id))
        return owner

    async def placed_by(self, registration_id: uuid.UUID) -> set[str]:
        return set((await self.session.execute(select(orders.c.passport_id).where(orders.c.registration_id == registration_id))).scalars())

    async def open_orders_with(self, enrolment_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        query = select(order_items.c.order_id).where(order_items.c.enrolment_id.in_(enrolment_ids), order_items.c.open)
        return set((await self.session.execute(query)).scalars())

    async def items(self, order_id: uuid.UUID) -> set[uuid.UUID]:
        return set((await self.session.execute(select(order_items.c.enrolment_id).where(order_items.c.order_id == order_id))).scalars())

    async def add(self, order: Order, subjects: list[Subject]) -> None:
        try:
            async with self.session.begin_nested():
                values = {k: v for k, v in order.__dict__.items() if k != "owner"}
                await self.session.execute(insert(orders).values(**values))
                await self.session.execute(
                    insert(order_items), [{"order_id": order.order_id, "enrolment_id": s.enrolment_id, "fee_fen": s.fee_fen} for s in subjects]
                )
        except IntegrityError:  # the partial unique index: another order took a subject first
            raise InOpenOrder() from None

    async def _orders(self, *where: ColumnElement[bool], lock: bool = False) -> list[Order]:
        query = (
            select(orders, registrations.c.passport_id.label("owner"))
            .outerjoin(registrations, registrations.c.registration_id == orders.c.registration_id)
            .where(*where)
            .order_by(orders.c.created_at)
        )
        rows = await self.session.execute(query.with_for_update(of=orders) if lock else query)
        return [Order(r.order_id, r.registration_id, r.passport_id, r.amount_fen, r.status, r.created_at, r.owner) for r in rows]

    async def get(self, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
        found = await self._orders(orders.c.order_id == order_id, lock=lock)
        return found[0] if found else None

    async def of_registration(self, registration_id: uuid.UUID) -> list[Order]:
        return await self._orders(orders.c.registration_id == registration_id)

    async def lines(self, order_id: uuid.UUID) -> list[OrderLine]:
        rows = await self.session.execute(
            select(order_items.c.enrolment_id, enrolments.c.subject_code, enrolments.c.subject_name, order_items.c.fee_fen)
            .join(enrolments, enrolments.c.enrolment_id == order_items.c.enrolment_id)
            .where(order_items.c.order_id == order_id)
            .order_by(enrolments.c.subject_code)
        )
        return [OrderLine(r.enrolment_id, r.subject_code, r.subject_name, r.fee_fen) for r in rows]

    async def subject_lines(self, enrolment_ids: list[uuid.UUID]) -> list[OrderLine]:
        rows = await self.session.execute(
            select(enrolments.c.enrolment_id, enrolments.c.subject_code, enrolments.c.subject_name, enrolments.c.fee_fen)
            .where(enrolments.c.enrolment_id.in_(enrolment_ids))
            .order_by(enrolments.c.subject_code)
        )
        return [OrderLine(r.enrolment_id, r.subject_code, r.subject_name, r.fee_fen) for r in rows]

    async def earliest_expiry(self, order_id: uuid.UUID) -> datetime | None:
        expiry: datetime | None = await self.session.scalar(
            select(func.min(enrolments.c.expires_at))
            .join(order_items, order_items.c.enrolment_id == enrolments.c.enrolment_id)
            .where(order_items.c.order_id == order_id)
        )
        return expiry

    async def mark_paid(self, order_id: uuid.UUID, paid_at: datetime) -> None:
        await self.session.execute(update(orders).where(orders.c.order_id == order_id).values(status="paid", paid_at=paid_at))
        await self.session.execute(update(order_items).where(order_items.c.order_id == order_id).values(open=False))

    async def attempt(self, gateway: str, out_trade_no: str) -> Attempt | None:
        row = (await self.session.execute(select(attempts).where(attempts.c.out_trade_no == out_trade_no, attempts.c.gateway == gateway))).first()
        return None if row is None else _attempt(row)

    async def attempt_of(self, order_id: uuid.UUID, gateway: str) -> Attempt | None:
        row = (await self.session.execute(select(attempts).where(attempts.c.order_id == order_id, attempts.c.gateway == gateway))).first()
        return None if row is None else _attempt(row)

    async def add_attempt(self, attempt: Attempt) -> None:
        await self.session.execute(insert(attempts).values(**attempt.__dict__))

    async def set_bank(self, attempt_id: uuid.UUID, bank: str | None) -> None:
        await self.session.execute(update(attempts).where(attempts.c.attempt_id == attempt_id).values(bank=bank))

    async def unpaid_attempts(self, registration_id: uuid.UUID) -> list[Attempt]:
        rows = await self.session.execute(
            select(attempts)
            .join(orders, orders.c.order_id == attempts.c.order_id)
            .where(orders.c.registration_id == registration_id, orders.c.status != "paid")
        )
        return [_attempt(r) for r in rows]
