"""The portal's home page news (最新动态) and notices (通知公告): operations write them with a
publish time; everyone reads what is published. Every change by staff is audited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.clock import Clock
from cet_shared.problems import Problem
from enrolment.db.tables import news_audit, news_items
from enrolment.service.session_specs import LongText, Moment, ShortText, Strict
from enrolment.service.units import UnitFactory

PUBLIC_LIMIT = 50
COLUMNS = (news_items.c.id, news_items.c.kind, news_items.c.title, news_items.c.body, news_items.c.publish_at, news_items.c.updated_at)


class NewsSpec(Strict):
    kind: Literal["news", "notice"]
    title: ShortText
    body: LongText
    publish_at: Moment


def news_not_found() -> Problem:
    return Problem(404, "news_not_found", "动态或通知不存在")


def _item(row: Any) -> dict[str, Any]:  # noqa: ANN401 - a result row mapping
    return {"id": row["id"], "kind": row["kind"], "title": row["title"], "body": row["body"],
            "publish_at": row["publish_at"], "updated_at": row["updated_at"]}


async def published(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> list[dict[str, Any]]:
    """What the home page shows: items whose publish time has come, newest first."""
    async with sessions() as session:
        rows = await session.execute(
            select(*COLUMNS).where(news_items.c.publish_at <= clock.now())
            .order_by(news_items.c.publish_at.desc(), news_items.c.id).limit(PUBLIC_LIMIT)
        )
        return [_item(row) for row in rows.mappings()]


async def every_item(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> list[dict[str, Any]]:
    """The console's list: scheduled ones too, latest publish time first."""
    async with sessions() as session:
        rows = await session.execute(select(*COLUMNS).order_by(news_items.c.publish_at.desc(), news_items.c.id))
        return [_item(row) | {"published": row["publish_at"] <= clock.now()} for row in rows.mappings()]


async def _audit(session, news_id: uuid.UUID, action: str, actor: str, item: dict[str, Any], now: datetime) -> None:  # noqa: ANN001
    snapshot = {k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v) for k, v in item.items()}
    await session.execute(insert(news_audit).values(news_id=news_id, action=action, actor_passport_id=actor, item=snapshot, at=now))


async def create(units: UnitFactory, clock: Clock, actor: str, spec: NewsSpec) -> dict[str, Any]:
    now = clock.now()
    item = {"id": uuid.uuid4(), **spec.model_dump(), "updated_at": now}
    async with units() as uow:
        await uow.session.execute(insert(news_items).values(**item, created_at=now))
        await _audit(uow.session, item["id"], "created", actor, item, now)
        await uow.commit()
    return item


async def change(units: UnitFactory, clock: Clock, actor: str, news_id: uuid.UUID, spec: NewsSpec) -> dict[str, Any]:
    now = clock.now()
    async with units() as uow:
        row = (await uow.session.execute(update(news_items).where(news_items.c.id == news_id)
                                         .values(**spec.model_dump(), updated_at=now).returning(*COLUMNS))).mappings().first()
        if row is None:
            raise news_not_found()
        item = _item(row)
        await _audit(uow.session, news_id, "updated", actor, item, now)
        await uow.commit()
    return item


async def withdraw(units: UnitFactory, clock: Clock, actor: str, news_id: uuid.UUID) -> None:
    now = clock.now()
    async with units() as uow:
        row = (await uow.session.execute(delete(news_items).where(news_items.c.id == news_id).returning(*COLUMNS))).mappings().first()
        if row is None:
            raise news_not_found()
        await _audit(uow.session, news_id, "deleted", actor, _item(row), now)
        await uow.commit()
