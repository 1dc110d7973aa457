"""The home page's news and notices: anyone reads what is published; operations write them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel

from enrolment.api.deps import EnrolmentDep, Ops
from enrolment.service import news
from enrolment.service.news import NewsSpec

router = APIRouter(tags=["news"])


class NewsItem(BaseModel):
    id: uuid.UUID
    kind: Literal["news", "notice"]
    title: str
    body: str
    publish_at: datetime
    updated_at: datetime


class StaffNewsItem(NewsItem):
    published: bool


@router.get("/news", response_model=list[NewsItem])
async def published_news(ctx: EnrolmentDep) -> list[dict]:
    """The portal's home page, logged in or not: published items only, newest first."""
    return await news.published(ctx.sessions, ctx.clock)


@router.get("/ops/news", response_model=list[StaffNewsItem])
async def every_news_item(ctx: EnrolmentDep, _: Ops) -> list[dict]:
    return await news.every_item(ctx.sessions, ctx.clock)


@router.post("/ops/news", response_model=NewsItem, status_code=status.HTTP_201_CREATED)
async def create_news(body: NewsSpec, ctx: EnrolmentDep, principal: Ops) -> dict:
    return await news.create(ctx.unit_of_work, ctx.clock, principal.passport_id, body)


@router.put("/ops/news/{news_id}", response_model=NewsItem)
async def change_news(news_id: uuid.UUID, body: NewsSpec, ctx: EnrolmentDep, principal: Ops) -> dict:
    return await news.change(ctx.unit_of_work, ctx.clock, principal.passport_id, news_id, body)


@router.delete("/ops/news/{news_id}", status_code=status.HTTP_204_NO_CONTENT)
async def withdraw_news(news_id: uuid.UUID, ctx: EnrolmentDep, principal: Ops) -> None:
    await news.withdraw(ctx.unit_of_work, ctx.clock, principal.passport_id, news_id)
