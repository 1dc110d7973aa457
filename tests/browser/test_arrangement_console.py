"""Issue 15 point 5 (N13) in the console: operations start the arrangement of a closed exam
session, watch its progress while the enrolment worker runs the job, and download the result (CSV
with a BOM). The session is this file's own and never published, so the shared session of the
other browser tests stays as it is; its paid subjects are written in enrolment's own database, as
the drills move the clocks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from test_audit_console import downloaded
from test_staff_console import console_log_in

try:
    from playwright.async_api import expect
except ImportError:  # not installed: the `browser` fixture fails every test here and says how to install it
    expect = None

PAID = 3


def _closed_session(stack) -> str:
    now = datetime.now(UTC)
    document = {
        "name": "编排演练考次",
        "year": 2017,
        "half": 2,
        "registration": {"opens_at": (now - timedelta(days=2)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat()},
        "campuses": [
            {
                "province_code": "99",
                "school_code": "99109",
                "school_name": "编排演练学校",
                "campus_code": "991090",
                "campus_name": "99109-0校区",
                "offerings": [{"subject": "1", "fee_fen": 1}],
            }
        ],
    }
    created = stack.api("POST", "/enrolment/ops/sessions", token=stack.token(uuid.uuid4().hex.upper(), "ops"), json=document)
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def _paid_and_closed(stack, session_id: str) -> None:
    db = await asyncpg.connect(stack.stack.database_urls["enrolment"].replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await db.execute(
            """INSERT INTO registrations (registration_id, exam_session_id, passport_id, snapshot, province_code, school_code, campus_code,
                                          qualification_subjects, bound_at)
               SELECT gen_random_uuid(), $1, 'ARRANGE' || g, jsonb_build_object('name', '编排' || g, 'id_number', '11010120000101001' || g),
                      '99', '99109', '991090', ARRAY['英语四级笔试'], now() FROM generate_series(1, $2) g""",
            uuid.UUID(session_id),
            PAID,
        )
        await db.execute(
            """INSERT INTO enrolments (id, registration_id, exam_session_id, offering_id, subject_code, kind, level, fee_fen, status, seat_held,
                                       enrolled_at, expires_at, paid_at)
               SELECT gen_random_uuid(), r.registration_id, r.exam_session_id, o.id, '1', 'written', 4, 1, 'paid', true,
                      now(), now() + interval '1 day', now() + row_number() OVER (ORDER BY r.passport_id) * interval '1 second'
               FROM registrations r JOIN offerings o ON o.exam_session_id = r.exam_session_id WHERE r.exam_session_id = $1""",
            uuid.UUID(session_id),
        )
        await db.execute("UPDATE exam_sessions SET registration_closes_at = now() - interval '1 minute' WHERE id = $1", uuid.UUID(session_id))
    finally:
        await db.close()


async def test_n13_operations_arrange_a_closed_session_watch_its_progress_and_download_the_result(visit, stack) -> None:
    session_id = _closed_session(stack)
    await _paid_and_closed(stack, session_id)

    ops = await visit("ops")
    await console_log_in(ops, "ops@cet.test")
    page = ops.page
    await page.get_by_role("tab", name="考场编排").click()
    await page.get_by_label("考次ID").fill(session_id)
    await page.get_by_role("button", name="开始编排").click()
    # The worker looks for jobs every few seconds; the tab polls the job until it is done.
    await expect(page.locator("#arrangement-status")).to_have_text("已完成", timeout=60_000)
    await expect(page.locator("#arrangement-total")).to_have_text(str(PAID))
    await expect(page.locator("#arrangement-arranged")).to_have_text(str(PAID))
    await expect(page.locator("#arrangement-percent")).to_have_text("100%")
    await ops.shot("arrangement-done")

    table = await downloaded(page, page.get_by_role("link", name="下载编排结果（CSV）"))
    assert table[0][-3:] == ["考场号", "座位号", "准考证号"]
    assert [row[-3:] for row in table[1:]] == [["1", str(seat), f"9910901721001{seat:02d}"] for seat in range(1, PAID + 1)]

    # Asked again later (another visit of the tab): the latest run of the session is shown.
    await page.get_by_role("tab", name="考次设置与发布").click()
    await page.get_by_role("tab", name="考场编排").click()
    await page.get_by_label("考次ID").fill(session_id)
    await page.get_by_role("button", name="查看最近一次编排").click()
    await expect(page.locator("#arrangement-status")).to_have_text("已完成")
