"""N13, issue 14 point 8: the admission ticket is a real CET ticket. Rendered the way a candidate
prints it (poppler's pdftoppm), it shows every field in an embedded Chinese font (pdffonts,
pdftotext) and a Code 128 that a scanner reads back as the ticket number (zbarimg, zbar-tools)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from cet_shared.events.contracts import PaymentConfirmed


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: apt-get install -y {package}")
    return path


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout


async def _ticket(world, *, name: str, subject: str):
    await world.open_session()
    candidate = await world.bind(school="99301", campus="993010", name=name)
    ids = (await candidate.written("1")).json()["enrolment_ids"]
    if subject == "F":
        ids = (await candidate.oral(await world.offering("993010", "F"))).json()["enrolment_ids"]
    await world.deliver(
        PaymentConfirmed(
            order_id=uuid.uuid4(),
            registration_id=candidate.registration_id,
            passport_id=candidate.passport_id,
            enrolment_ids=ids,
            amount_fen=len(ids),
            gateway="alipay",
            gateway_transaction_id=uuid.uuid4().hex,
            paid_at=world.ctx.clock.now(),
        ),
        key=str(candidate.registration_id),
    )
    world.ctx.clock.advance(timedelta(days=10, minutes=1))
    arranged = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=world.tokens.headers(None, "ops"))
    assert arranged.status_code == 200, arranged.text
    world.ctx.clock.advance(timedelta(days=2))
    pdf = await world.client.get(f"/me/enrolments/{ids[0]}/ticket.pdf", headers=candidate.headers)
    number = await world.scalar("SELECT ticket_number FROM enrolments WHERE id = :id", id=uuid.UUID(ids[0]))
    return number, pdf


@pytest.mark.parametrize(("name", "subject"), [("廖晓儿", "1"), ("王喆堃", "F")])
async def test_n13_ticket_embeds_its_font_shows_every_field_and_carries_a_readable_code128(world, tmp_path: Path, name: str, subject: str) -> None:
    # 喆 and 堃 are outside GB2312: a font cut to a fixed list of characters would miss them.
    zbarimg = _tool("zbarimg", "zbar-tools")
    _tool("pdftoppm", "poppler-utils")
    number, answer = await _ticket(world, name=name, subject=subject)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf", answer.text
    path = tmp_path / "ticket.pdf"
    path.write_bytes(answer.content)

    fonts = _run("pdffonts", str(path)).splitlines()[2:]
    assert fonts, "the ticket uses no font at all"
    for line in fonts:
        assert " yes " in line and "NotoSansCJK" in line, f"a font the viewer must supply: {line}"

    text = _run("pdftotext", "-layout", str(path), "-")
    squeezed = "".join(text.split())
    expected = [number, name, "330101199001010000", "测试学校机构01", "测试校区机构001", "考场号", "座位号", "考试时间", "考生须知", "照片", "打印时间"]
    expected += ["英语四级笔试", "09:00–11:20"] if subject == "1" else ["英语四级口试", "口试准考证"]
    for words in expected:
        assert "".join(words.split()) in squeezed, f"{words!r} missing from the ticket:\n{text}"

    _run("pdftoppm", "-r", "200", "-png", "-singlefile", str(path), str(tmp_path / "ticket"))
    decoded = subprocess.run(
        [zbarimg, "--quiet", "--raw", "-Sdisable", "-Scode128.enable", str(tmp_path / "ticket.png")], capture_output=True, text=True, timeout=60
    )
    assert decoded.returncode == 0, f"no Code 128 found: {decoded.stderr}"
    assert decoded.stdout.split() == [number]


async def test_n13_a_host_without_the_font_answers_503_not_500(world, monkeypatch) -> None:
    from enrolment.service import ticket_font

    monkeypatch.setattr(ticket_font, "NOTO_CJK", Path("/nonexistent/NotoSansCJK-Regular.ttc"))
    _, answer = await _ticket(world, name="廖晓儿", subject="1")
    assert answer.status_code == 503 and world.code(answer) == "ticket_unavailable"
    assert answer.json()["title"] == "准考证暂时无法生成，请稍后再试"
