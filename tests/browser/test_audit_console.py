"""Issue 15 in the console: operations read the audit trail (filtered, with the address the
services saw behind the gateway) and export it; a teacher exports their own school's roster.
Both downloads are CSV with a BOM, so Excel opens the Chinese text."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from test_staff_console import SESSION_ID, console_log_in

try:
    from playwright.async_api import expect
except ImportError:  # not installed: the `browser` fixture fails every test here and says how to install it
    expect = None

BOM = "\ufeff"


async def downloaded(page, link) -> list[list[str]]:
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    body = Path(await download.path()).read_bytes().decode("utf-8")
    assert body.startswith(BOM), "UTF-8 with a BOM"
    return list(csv.reader(io.StringIO(body.removeprefix(BOM))))


async def test_operations_filter_the_audit_trail_and_export_it(visit, stack) -> None:
    overview = stack.api("GET", f"/enrolment/ops/sessions/{SESSION_ID}", token=stack.token(uuid.uuid4().hex.upper(), "ops")).json()
    offering = next(o for o in overview["offerings"] if o["capacity"] is not None)
    operator = uuid.uuid4().hex.upper()
    changed = stack.api(
        "PUT", f"/enrolment/ops/offerings/{offering['id']}/capacity", token=stack.token(operator, "ops"), json={"capacity": offering["capacity"] + 3}
    )
    assert changed.status_code == 200, changed.text
    # The stack is shared with the other browser tests (the journey counts this campus's seats): put it back.
    restored = stack.api(
        "PUT",
        f"/enrolment/ops/offerings/{offering['id']}/capacity",
        token=stack.token(uuid.uuid4().hex.upper(), "ops"),
        json={"capacity": offering["capacity"]},
    )
    assert restored.status_code == 200, restored.text

    ops = await visit("ops")
    await console_log_in(ops, "ops@cet.test")
    page = ops.page
    await page.get_by_role("tab", name="操作审计").click()
    await page.get_by_label("服务").select_option("enrolment")
    await page.get_by_label("操作人通行证ID").fill(operator)
    await page.get_by_role("button", name="查询").click()
    rows = page.locator("#audit-table tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("offering.capacity_changed")
    await expect(rows.first).to_contain_text("127.0.0.1")  # the client's address through the gateway
    await expect(rows.first).to_contain_text(f'"capacity":{offering["capacity"] + 3}')
    await ops.shot("audit-filtered")
    table = await downloaded(page, page.get_by_role("link", name="导出CSV"))
    assert table[0][:3] == ["id", "at", "actor_id"] and [r[2] for r in table[1:]] == [operator]

    # The seeding CLIs acted without a token: the system is the actor, and publication is there.
    await page.get_by_label("操作人通行证ID").fill("")
    await page.get_by_label("操作类型").fill("session.published")
    await page.get_by_role("button", name="查询").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("system")


async def test_a_teacher_exports_the_roster_of_their_own_school_only(visit, stack) -> None:
    header = (Path(__file__).parent / "data" / "students.csv").read_text(encoding="utf-8").splitlines()[0]
    row = "99,测试省,99301,测试学校机构01,993010,测试校区机构001,是,澳门身份证,99301000088,何导出,女,专科,3,16,01,化学学院,物理,1,02,,1;3;4,否"
    school_token = stack.token(uuid.uuid4().hex.upper(), "teacher", school_code="99301")
    imported = stack.api(
        "POST", "/eligibility/registry/students", token=school_token, content=f"{header}\n{row}\n".encode(), headers={"content-type": "text/csv"}
    )
    assert imported.status_code == 200, imported.text
    stack.bind_candidate("macao_id", "99301000088", "何导出")
    teacher = await visit("teacher")
    await console_log_in(teacher, "teacher@99301.test")
    page = teacher.page
    await page.get_by_role("tab", name="数据导出").click()
    await expect(page.get_by_label("学校代码")).to_have_value("99301")
    await expect(page.get_by_label("学校代码")).to_have_attribute("readonly", "")
    await teacher.shot("exports")
    roster = await downloaded(page, page.get_by_role("link", name="考生名单"))
    assert roster[0][:5] == ["省份代码", "学校代码", "校区代码", "报名号", "姓名"]
    assert "何导出" in [r[4] for r in roster[1:]] and {r[1] for r in roster[1:]} == {"99301"}
    reviews = await downloaded(page, page.get_by_role("link", name="CET6资格复核结果"))
    assert reviews[0][:2] == ["省份代码", "学校代码"] and {r[1] for r in reviews[1:]} <= {"99301"}
