"""Issue 14 point 8 (N13): a paid, arranged candidate downloads her admission ticket from 报名信息
in the printing window, and it is a real ticket: every field in an embedded Chinese font, and a
Code 128 a scanner reads as her ticket number. Paying goes through the portal and the sandbox; the
arrangement (编排, after registration closes) and the opening of the printing window are moved on
in enrolment's own database, as the drills move the 24-hour clock: the shared session stays open
for every other test, and the window is put back afterwards."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest
from candidate_steps import bound_with_written, pay_with_alipay
from playwright.async_api import expect

from enrolment.domain.rules import ticket_number

SHOTS = Path(__file__).resolve().parent / "screenshots"


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_n13_ticket_downloads_from_the_registration_page_in_the_printing_window(visit, stack, tmp_path) -> None:
    zbarimg = shutil.which("zbarimg") or pytest.fail("zbarimg is missing: apt-get install -y zbar-tools")
    v = await visit()
    page = v.page
    await bound_with_written(v, id_number="110101200808080028", name="冯雪")
    await pay_with_alipay(v, "written")
    await expect(page.get_by_role("link", name="下载准考证")).to_have_count(0)  # not yet arranged, window not open

    db = await asyncpg.connect(_dsn(stack.stack.database_urls["enrolment"]))
    row = None
    try:
        row = await db.fetchrow(
            """SELECT e.id, e.exam_session_id, s.year, s.half, s.written_tickets_opens_at, o.province_code, o.school_code, o.campus_code
               FROM enrolments e JOIN registrations r ON r.registration_id = e.registration_id
               JOIN exam_sessions s ON s.id = e.exam_session_id JOIN offerings o ON o.id = e.offering_id
               WHERE r.snapshot->>'name' = '冯雪' AND e.status = 'paid' AND e.subject_code = '1'"""
        )
        number = ticket_number(
            province_code=row["province_code"],
            school_code=row["school_code"],
            campus_code=row["campus_code"],
            year=row["year"],
            half=row["half"],
            subject_code="1",
            room=7,
            seat=12,
        )
        await db.execute("UPDATE enrolments SET room = 7, seat = 12, ticket_number = $2, arranged_at = now() WHERE id = $1", row["id"], number)
        await db.execute("UPDATE exam_sessions SET written_tickets_opens_at = now() - interval '1 minute' WHERE id = $1", row["exam_session_id"])
        await page.reload()
        link = page.locator("#written-table").get_by_role("link", name="下载准考证")
        await expect(link).to_be_visible()
        await v.shot("ticket-link")
        async with page.expect_download() as download_info:
            await link.click()
        download = await download_info.value
        assert download.suggested_filename == f"ticket-{number}.pdf"
        pdf = tmp_path / "ticket.pdf"
        await download.save_as(pdf)
    finally:
        if row is not None:
            await db.execute("UPDATE exam_sessions SET written_tickets_opens_at = $2 WHERE id = $1", row["exam_session_id"], row["written_tickets_opens_at"])
        await db.close()

    for line in subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]:
        assert " yes " in line, f"not embedded: {line}"
    text = "".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    for words in (
        number,
        "冯雪",
        "110101200808080028",
        "(1)英语四级笔试",
        "(99103)测试学校03",
        "(991030)99103-0校区",
        "考场号007",
        "座位号12",
        "考生须知",
        "照片",
    ):
        assert words in text, f"{words!r} missing: {text}"
    SHOTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(SHOTS / "ticket")], check=True)
    decoded = subprocess.run([zbarimg, "--quiet", "--raw", "-Sdisable", "-Scode128.enable", str(SHOTS / "ticket.png")], capture_output=True, text=True)
    assert decoded.stdout.split() == [number], decoded.stderr
