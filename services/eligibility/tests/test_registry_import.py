"""E13 student registry import (API and CLI), E10 score import, E6 snapshots survive re-import."""

from __future__ import annotations

from sqlalchemy import func, select

from eligibility.cli import DEMO, main
from eligibility.db.tables import cet4_scores, students
from eligibility.domain.imports import STUDENT_COLUMNS

HEADER = ",".join(STUDENT_COLUMNS)
ROW = "99,测试省,99101,测试学校,991010,99101-0校区,是,{id_type},{id_number},{name},女,专科,6,16,11,{department},高分子化学与物理,1,00001,,1;F,否"
CSV = {"content-type": "text/csv"}


def student_csv(*rows: dict) -> str:
    defaults = {"id_type": "中华人民共和国居民身份证", "id_number": "330101199001010024", "name": "廖晓儿", "department": "化学学院"}
    return "\n".join([HEADER, *(ROW.format(**{**defaults, **r}) for r in rows)]) + "\n"


async def count(ctx, table) -> int:
    async with ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def test_e13_ops_imports_the_registry_through_the_api(ctx, client, tokens):
    ops = tokens.headers(None, "ops")
    response = await client.post("/registry/students", content=(DEMO / "students.csv").read_bytes(), headers={**ops, **CSV})
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "导入成功", "rows": 3, "created": 3, "updated": 0}
    # The same content again is the same job (idempotent by content hash): nothing applied twice.
    again = await client.post("/registry/students", content=(DEMO / "students.csv").read_bytes(), headers={**ops, **CSV})
    assert again.json() == response.json() and again.headers["location"] == response.headers["location"]
    assert await count(ctx, students) == 3
    changed = (DEMO / "students.csv").read_text(encoding="utf-8").replace("工商管理", "经济学院")
    updated = await client.post("/registry/students", content=changed.encode(), headers={**ops, **CSV})
    assert updated.json()["updated"] == 3 and await count(ctx, students) == 3


async def test_e13_a_file_with_errors_imports_nothing_and_lists_every_row_error(ctx, client, tokens):
    text = student_csv({}, {"id_number": "330101199001010025"}, {"id_type": "军官证", "id_number": "12345"}, {"id_number": "990101200001010014", "name": ""})
    response = await client.post("/registry/students", content=text.encode(), headers={**tokens.headers(None, "ops"), **CSV})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "import_invalid"
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "id_number"), (4, "id_type"), (5, "name")]
    assert "330101199001010025" not in response.text, "rejected values are not echoed"
    assert await count(ctx, students) == 0, "the good first row was not imported either"


async def test_e13_teacher_imports_only_their_own_school(ctx, client, tokens):
    teacher = tokens.headers(None, "teacher", school_code="99301")
    refused = await client.post("/registry/students", content=student_csv({}).encode(), headers={**teacher, **CSV})
    assert refused.status_code == 422 and refused.json()["errors"][0]["message"] == "只能导入本校的学籍"
    own = await client.post("/registry/students", content=student_csv({}).encode(), headers={**tokens.headers(None, "teacher", school_code="99101"), **CSV})
    assert own.status_code == 200 and await count(ctx, students) == 1
    # A teacher of 99301 cannot move 廖晓儿 (of 99101) to their school by importing her ID.
    moved = student_csv({}).replace("99101,测试学校,991010,99101-0校区", "99301,测试学校机构01,993010,测试校区机构001")
    stolen = await client.post("/registry/students", content=moved.encode(), headers={**teacher, **CSV})
    assert stolen.status_code == 422 and stolen.json()["errors"] == [{"row": 2, "field": "id_number", "message": "该考生的学籍属于其他学校，请联系考试中心"}]
    async with ctx.sessions() as session:
        assert await session.scalar(select(students.c.school_code)) == "99101"


async def test_e13_forged_roles_and_bad_bodies_change_nothing(ctx, client, tokens):
    body = student_csv({}).encode()
    assert (await client.post("/registry/students", content=body, headers=CSV)).status_code == 401
    candidate = await client.post("/registry/students", content=body, headers={**tokens.headers(None, "candidate"), **CSV})
    assert candidate.status_code == 403 and candidate.json()["code"] == "forbidden"
    support = await client.post("/registry/students", content=body, headers={**tokens.headers(None, "support"), **CSV})
    assert support.status_code == 403
    teacher_scores = await client.post("/registry/scores", content=b"x", headers={**tokens.headers(None, "teacher", school_code="99101"), **CSV})
    assert teacher_scores.status_code == 403
    json_body = await client.post("/registry/students", json={"a": 1}, headers=tokens.headers(None, "ops"))
    assert json_body.status_code == 415
    latin = await client.post("/registry/students", content="名字".encode("gb18030"), headers={**tokens.headers(None, "ops"), **CSV})
    assert latin.status_code == 422 and latin.json()["code"] == "import_encoding"
    assert await count(ctx, students) == 0


async def test_e10_score_import_validates_ticket_numbers_and_scores(ctx, client, tokens):
    ops = {**tokens.headers(None, "ops"), **CSV}
    bad = "ticket_number,id_number,name,score,year,half\n993010162100101,99101000001,李博,480,2016,2\n99301016210010,1,x,800,2016,2\n"
    response = await client.post("/registry/scores", content=bad.encode(), headers=ops)
    assert response.status_code == 422
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {(3, "ticket_number"), (3, "score")}
    assert await count(ctx, cet4_scores) == 0
    good = await client.post("/registry/scores", content=(DEMO / "scores.csv").read_bytes(), headers=ops)
    assert good.status_code == 200 and good.json()["rows"] == 2 and await count(ctx, cet4_scores) == 2


async def test_e6_reimport_updates_the_student_but_not_a_saved_snapshot(world, ctx, client, tokens):
    await world.publish_session()
    headers, saved = await world.bound(world.LIAO)
    changed = student_csv({"department": "物理学院"})
    response = await client.post("/registry/students", content=changed.encode(), headers={**tokens.headers(None, "ops"), **CSV})
    assert response.status_code == 200 and response.json()["updated"] == 1
    async with ctx.sessions() as session:
        assert await session.scalar(select(students.c.department).where(students.c.id_number == "330101199001010024")) == "物理学院"
    mine = (await client.get("/registrations/me", headers=headers)).json()
    assert mine["registration"]["department"] == "化学学院" == saved["registration"]["department"]
    # A new query shows the registry as it is now.
    other = world.candidate()
    await world.agree(other)
    fresh = await client.post("/qualification/query", json=world.LIAO, headers=other)
    assert fresh.json()["confirmation"]["department"] == "物理学院"


async def test_e13_cli_imports_the_demo_files_and_refuses_a_bad_one(ctx, database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL_ELIGIBILITY", database_url)
    assert await _run(main, ["import-students", str(DEMO / "students.csv")]) == 0
    assert await _run(main, ["import-scores", str(DEMO / "scores.csv")]) == 0
    assert "imported 2 rows" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(student_csv({"id_number": "330101199001010025", "department": "改"}), encoding="utf-8")
    assert await _run(main, ["import-students", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "row 2, id_number: 居民身份证号码校验位不正确" in err
    assert await count(ctx, students) == 3


async def _run(fn, argv):
    import asyncio

    # The CLI runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(fn, argv)
