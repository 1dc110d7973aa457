"""The portal's home page news (最新动态), notices (通知公告) and provincial notices (省通告):
operations write them with a publish time, and a province administrator the provincial notices
of their own province (another province's are not even visible: 404, as in every service);
everyone reads what is published. Every change by staff is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import StringConstraints, model_validator
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared import audit
from cet_shared.auth import Principal
from cet_shared.clock import Clock
from cet_shared.problems import Problem
from enrolment.db.tables import news_audit, news_items
from enrolment.service.session_specs import LongText, Moment, ShortText, Strict
from enrolment.service.units import UnitFactory

PUBLIC_LIMIT = 50
COLUMNS = (
    news_items.c.id,
    news_items.c.kind,
    news_items.c.province_code,
    news_items.c.title,
    news_items.c.body,
    news_items.c.publish_at,
    news_items.c.updated_at,
)


class NewsSpec(Strict):
    kind: Literal["news", "notice", "province"]
    province_code: Annotated[str, StringConstraints(pattern=r"^\d{2}$")] | None = None
    title: ShortText
    body: LongText
    publish_at: Moment

    @model_validator(mode="after")
    def _province_for_province_notices(self) -> NewsSpec:
        if (self.kind == "province") != (self.province_code is not None):
            raise ValueError("省通告须指定省份代码，其他栏目不能指定")
        return self


@dataclass(frozen=True)
class Editor:
    """Who writes: operations everything, a province administrator their province's 省通告."""

    passport_id: str
    province_code: str | None  # None: operations

    @classmethod
    def of(cls, principal: Principal) -> Editor:
        # The route's dependency (require_scoped_role) made sure an administrator has a province.
        return cls(principal.passport_id, None if principal.has("ops") else principal.province_code)

    def scope(self):  # noqa: ANN201 - a where clause
        if self.province_code is None:
            return news_items.c.id.is_not(None)
        return (news_items.c.kind == "province") & (news_items.c.province_code == self.province_code)

    def check(self, spec: NewsSpec) -> None:
        if self.province_code is not None and (spec.kind != "province" or spec.province_code != self.province_code):
            raise Problem(403, "news_out_of_scope", "只能编辑本省的省通告")


def news_not_found() -> Problem:
    return Problem(404, "news_not_found", "动态或通知不存在")


def _item(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "province_code": row["province_code"],
        "title": row["title"],
        "body": row["body"],
        "publish_at": row["publish_at"],
        "updated_at": row["updated_at"],
    }


async def published(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> list[dict[str, Any]]:
    """What the home page shows: items whose publish time has come, newest first."""
    async with sessions() as session:
        rows = await session.execute(
            select(*COLUMNS).where(news_items.c.publish_at <= clock.now()).order_by(news_items.c.publish_at.desc(), news_items.c.id).limit(PUBLIC_LIMIT)
        )
        return [_item(row) for row in rows.mappings()]


async def every_item(sessions: async_sessionmaker[AsyncSession], clock: Clock, editor: Editor) -> list[dict[str, Any]]:
    """The console's list, what the editor may change: scheduled ones too, latest publish time first."""
    async with sessions() as session:
        rows = await session.execute(select(*COLUMNS).where(editor.scope()).order_by(news_items.c.publish_at.desc(), news_items.c.id))
        return [_item(row) | {"published": row["publish_at"] <= clock.now()} for row in rows.mappings()]


async def _audit(session, news_id: uuid.UUID, action: str, actor: str, item: dict[str, Any], now: datetime) -> None:  # noqa: ANN001
    snapshot = {k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v) for k, v in item.items()}
    await session.execute(insert(news_audit).values(news_id=news_id, action=action, actor_passport_id=actor, item=snapshot, at=now))
    await audit.record(session, f"news.{action}", ("news", news_id), after=snapshot)


async def create(units: UnitFactory, clock: Clock, editor: Editor, spec: NewsSpec) -> dict[str, Any]:
    editor.check(spec)
    actor = editor.passport_id
    now = clock.now()
    item = {"id": uuid.uuid4(), **spec.model_dump(), "updated_at": now}
    async with units() as uow:
        await uow.session.execute(insert(news_items).values(**item, created_at=now))
        await _audit(uow.session, item["id"], "created", actor, item, now)
        await uow.commit()
    return item


async def change(units: UnitFactory, clock: Clock, editor: Editor, news_id: uuid.UUID, spec: NewsSpec) -> dict[str, Any]:
    actor = editor.passport_id
    now = clock.now()
    async with units() as uow:
        row = (
            (
                await uow.session.execute(
                    update(news_items).where(news_items.c.id == news_id, editor.scope()).values(**spec.model_dump(), updated_at=now).returning(*COLUMNS)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise news_not_found()
        editor.check(spec)  # after the look-up: another province's item is 404, not 403
        item = _item(row)
        await _audit(uow.session, news_id, "updated", actor, item, now)
        await uow.commit()
    return item


async def withdraw(units: UnitFactory, clock: Clock, editor: Editor, news_id: uuid.UUID) -> None:
    actor = editor.passport_id
    now = clock.now()
    async with units() as uow:
        row = (await uow.session.execute(delete(news_items).where(news_items.c.id == news_id, editor.scope()).returning(*COLUMNS))).mappings().first()
        if row is None:
            raise news_not_found()
        await _audit(uow.session, news_id, "deleted", actor, _item(row), now)
        await uow.commit()
