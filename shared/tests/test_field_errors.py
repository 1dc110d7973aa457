"""Issue 13: every field error inside the Chinese problem is Chinese too; pydantic's English stays
only in `debug`, and the rejected input is never echoed."""

from __future__ import annotations

import re
from typing import Annotated

import httpx
from pydantic import BaseModel, ConfigDict, StringConstraints

from cet_shared.strict import IsoMoment, JsonBool
from cet_shared.web import create_app

CHINESE = re.compile(r"[\u4e00-\u9fff]")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(max_length=60)]
    count: int
    locked: JsonBool
    opens_at: IsoMoment


async def test_every_field_error_message_is_chinese_and_pydantic_text_is_only_debug() -> None:
    app = create_app(title="t")

    @app.post("/things")
    async def things(body: Body) -> dict:
        return {}

    bad = {"name": "廖" * 61, "count": "many", "locked": 0, "opens_at": "1000000000000", "secret": "330101199001010024"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cet.test") as client:
        response = await client.post("/things", json=bad)
        missing = await client.post("/things", json={})
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    errors = {tuple(e["loc"]): e for e in response.json()["errors"]}
    assert errors[("body", "name")]["msg"] == "长度不能超过60个字符"
    assert errors[("body", "name")]["debug"] == "String should have at most 60 characters"
    assert errors[("body", "count")]["msg"] == "须为整数"
    assert errors[("body", "locked")]["msg"] == "须为 true 或 false"
    assert errors[("body", "opens_at")]["msg"].startswith("时间须为 ISO 8601 格式")
    assert errors[("body", "secret")]["msg"] == "不允许提交此项"
    for error in [*errors.values(), *missing.json()["errors"]]:
        assert CHINESE.search(error["msg"]) and not re.search(r"[A-Za-z]{4,}", error["msg"].replace("ISO", "").replace("true", "").replace("false", "")), error
    assert "330101199001010024" not in response.text and "廖" * 61 not in response.text
    assert {e["msg"] for e in missing.json()["errors"]} == {"此项为必填项"}
