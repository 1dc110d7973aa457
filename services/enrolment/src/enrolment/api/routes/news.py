"""The home page's news and notices: anyone reads what is published; operations write them, and
province administrators their province's 省通告."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel

from cet_shared.auth import Principal, require_scoped_role
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


@router.get("/news", response_model=list[NewsItem])
async def published_news(ctx: EnrolmentDep) -> list[dict]:
    """The portal's home page, logged in or not: published items only, newest first."""
    return await news.published(ctx)


@router.get("/ops/news", response_model=list[StaffNewsItem])
async def every_news_item(ctx: EnrolmentDep, principal: NewsEditor) -> list[dict]:
    return await news.every_item(ctx, Editor.of(principal))


@router.post("/ops/news", response_model=NewsItem, status_code=status.HTTP_201_CREATED)
async def create_news(body: NewsSpec, ctx: EnrolmentDep, principal: NewsEditor) -> dict:
    return await news.create(ctx, Editor.of(principal), body)


@router.put("/ops/news/{news_id}", response_model=NewsItem)
async def change_news(news_id: uuid.UUID, body: NewsSpec, ctx: EnrolmentDep, principal: NewsEditor) -> dict:
    return await news.change(ctx, Editor.of(principal), news_id, body)


@router.delete("/ops/news/{news_id}", status_code=status.HTTP_204_NO_CONTENT)
async def withdraw_news(news_id: uuid.UUID, ctx: EnrolmentDep, principal: NewsEditor) -> None:
    await news.withdraw(ctx, Editor.of(principal), news_id)
