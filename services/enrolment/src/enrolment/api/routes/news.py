"""The home page's news and notices: anyone reads what is published; operations write them, and
province administrators their province's 省通告."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel

from cet_shared.auth import Principal
from cet_shared.contract import problems
from cet_shared.staff_scope import require_scoped_role
from enrolment.api.deps import EnrolmentDep
from enrolment.service import news
from enrolment.service.news import Editor, NewsSpec

router = APIRouter(tags=["news"])
NewsEditor = Annotated[Principal, require_scoped_role("ops", "province_admin")]


class NewsItem(BaseModel):
    id: uuid.UUID
    kind: Literal["news", "notice", "province"]
    province_code: str | None = None
    title: str
    body: str
    publish_at: datetime
    updated_at: datetime


class StaffNewsItem(NewsItem):
    published: bool


@router.get("/news", response_model=list[NewsItem], summary="首页动态与通知")
async def published_news(ctx: EnrolmentDep) -> list[dict]:
    """门户首页（登录与否均可）：只列已发布的，最新的在前。"""
    return await news.published(ctx.sessions, ctx.clock)


@router.get("/ops/news", response_model=list[StaffNewsItem], summary="运营：全部动态与通知")
async def every_news_item(ctx: EnrolmentDep, principal: NewsEditor) -> list[dict]:
    """包括尚未到发布时间的（省级管理员只看到本省的通告）。"""
    return await news.every_item(ctx.sessions, ctx.clock, Editor.of(principal))


@router.post("/ops/news", response_model=NewsItem, status_code=status.HTTP_201_CREATED, summary="运营：发布动态或通知", responses=problems(403))
async def create_news(body: NewsSpec, ctx: EnrolmentDep, principal: NewsEditor) -> dict:
    """新建一条动态或通知（可定时发布）；省级管理员只能发布本省通告。"""
    return await news.create(ctx.unit_of_work, ctx.clock, Editor.of(principal), body)


@router.put("/ops/news/{news_id}", response_model=NewsItem, summary="运营：修改动态或通知", responses=problems(403, 404))
async def change_news(news_id: uuid.UUID, body: NewsSpec, ctx: EnrolmentDep, principal: NewsEditor) -> dict:
    """修改标题、正文或发布时间。"""
    return await news.change(ctx.unit_of_work, ctx.clock, Editor.of(principal), news_id, body)


@router.delete("/ops/news/{news_id}", status_code=status.HTTP_204_NO_CONTENT, summary="运营：撤下动态或通知", responses=problems(403, 404))
async def withdraw_news(news_id: uuid.UUID, ctx: EnrolmentDep, principal: NewsEditor) -> None:
    """撤下后首页不再显示。"""
    await news.withdraw(ctx.unit_of_work, ctx.clock, Editor.of(principal), news_id)
