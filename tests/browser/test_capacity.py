"""Issue 14 point 6 (N10, N11): the oral campus chooser's remaining capacity is for everyone —
said in words beside the colour with WCAG AA contrast, refreshed after a seats_full answer and on
a short timer only while the page is visible, usable at 390 px without hiding 剩余容量 — and when
several oral choices are submitted and a later one fails, every choice's result is reported.
Campus 991030 of school 99103 (data/) is this file's own: F has 4 seats, S has 2."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from candidate_steps import bound_with_written
from playwright.async_api import expect

HERE = Path(__file__).resolve().parent
SHOTS = HERE / "screenshots"
SESSION_DOC = HERE / "data" / "session.json"
REFRESH_MS = 15_000  # portal/pages/oral.js
SESSION_ID = json.loads(SESSION_DOC.read_text(encoding="utf-8"))["id"]
BOTH_WRITTEN = ("(1) 英语四级笔试", "(2) 英语六级笔试")
COLOURS = """(elements) => elements.map((el) => {
  let node = el, background = null;
  while (node && !background) {
    const c = getComputedStyle(node).backgroundColor;
    if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") background = c;
    node = node.parentElement;
  }
  return [el.className, el.textContent.trim(), getComputedStyle(el).color, background || "rgb(255, 255, 255)"];
})"""
HIDE = """() => { Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange")); }"""
SHOW = """() => { Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
  document.dispatchEvent(new Event("visibilitychange")); }"""


def _contrast(foreground: str, background: str) -> float:
    def luminance(css: str) -> float:
        channels = [int(x) / 255 for x in re.findall(r"\d+", css)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _offering(stack, subject: str) -> dict:
    ops = stack.token(uuid.uuid4().hex.upper(), "ops")
    overview = stack.api("GET", f"/enrolment/ops/sessions/{SESSION_ID}", token=ops).json()
    return next(o for o in overview["offerings"] if o["campus_code"] == "991030" and o["subject_code"] == subject)


def _set_capacity(stack, offering_id: str, capacity: int) -> None:
    changed = stack.api(
        "PUT", f"/enrolment/ops/offerings/{offering_id}/capacity", token=stack.token(uuid.uuid4().hex.upper(), "ops"), json={"capacity": capacity}
    )
    assert changed.status_code == 200, changed.text


def _take_seat(stack, id_number: str, name: str, subject: str) -> None:
    _, token = stack.bind_candidate("resident_id_card", id_number, name)
    assert stack.api("POST", "/enrolment/me/notices/acknowledgement", token=token).status_code == 200
    assert stack.api("POST", "/enrolment/me/written", token=token, json={"subject_codes": ["1", "2"]}).status_code == 201
    taken = stack.api("POST", "/enrolment/me/oral", token=token, json={"offering_id": _offering(stack, subject)["id"]})
    assert taken.status_code == 201, taken.text


async def test_n11_capacity_in_words_with_aa_contrast_refreshed_while_visible_and_usable_at_390px(visit, stack) -> None:
    # S half taken (yellow, 紧张), F with most seats free (green, 充足).
    _take_seat(stack, "110101200606060010", "郑强", "S")
    s = _offering(stack, "S")
    _set_capacity(stack, s["id"], 2 * s["held"])
    f = _offering(stack, "F")

    v = await visit()
    page = v.page
    await page.clock.install()  # the refresh timer runs when the test says so
    email = await bound_with_written(v, id_number="110101200505050024", name="周婷", written=BOTH_WRITTEN)
    await page.get_by_role("link", name="口试报考").click()
    f_cell, s_cell = page.locator("#campuses-F td.remaining"), page.locator("#campuses-S td.remaining")
    await expect(f_cell.locator("[data-colour]")).to_have_attribute("data-colour", "green")
    await expect(f_cell).to_contain_text("充足")
    await expect(s_cell.locator("[data-colour]")).to_have_attribute("data-colour", "yellow")
    await expect(s_cell).to_contain_text("紧张")
    for cls, text, colour, background in await page.locator("td.remaining [data-colour], td.remaining .cap-word").evaluate_all(COLOURS):
        assert _contrast(colour, background) >= 4.5, f"{cls} {text!r}: {colour} on {background} is below WCAG AA"
    await page.clock.run_for(5_000)  # the toast of the written enrolment goes (4 s), off the table
    await expect(page.locator("#toast")).to_be_empty()
    await page.locator("#oral-lists").screenshot(path=str(SHOTS / "capacity-table-1280.png"))

    # On the timer: operations add a seat, the chooser shows it without a reload.
    _set_capacity(stack, f["id"], f["capacity"] + 1)
    await page.clock.run_for(REFRESH_MS)
    await expect(f_cell.locator("[data-colour]")).to_have_text(str(f["remaining"] + 1))
    # Hidden (another tab, a locked phone): no requests at all, however long it stays hidden.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/campuses" in r.url else None)
    await page.evaluate(HIDE)
    _set_capacity(stack, f["id"], f["capacity"] + 2)
    await page.clock.run_for(REFRESH_MS * 4)
    await page.evaluate("() => new Promise((resolve) => requestAnimationFrame(resolve))")
    assert asked == []
    await expect(f_cell.locator("[data-colour]")).to_have_text(str(f["remaining"] + 1))
    # Visible again: refreshed at once.
    await page.evaluate(SHOW)
    await expect(f_cell.locator("[data-colour]")).to_have_text(str(f["remaining"] + 2))
    assert asked, "becoming visible did not refresh the chooser"

    # A phone, 390 px wide: one card per campus, 剩余容量 on screen, nothing scrolls sideways.
    phone = await visit("phone", mobile=True)
    await phone.log_in(email, "Cet-Steps-2026")
    await phone.page.goto("/oral")
    for cell in (phone.page.locator("#campuses-F td.remaining"), phone.page.locator("#campuses-S td.remaining")):
        await expect(cell).to_be_visible()
        assert await cell.evaluate("(td) => getComputedStyle(td, '::before').content") == '"剩余容量"'  # the card's own label
        box = await cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box
    assert await phone.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert await phone.page.locator(".table-wrap").evaluate_all("(ws) => ws.every((w) => w.scrollWidth <= w.clientWidth + 1)")
    await phone.page.locator("#oral-lists").screenshot(path=str(SHOTS / "capacity-table-390.png"))
    await _restore(stack, f)


async def _restore(stack, f: dict) -> None:
    _set_capacity(stack, f["id"], f["capacity"])


async def test_n10_every_oral_choice_is_reported_when_a_later_one_fails(visit, stack) -> None:
    v = await visit()
    page = v.page
    await bound_with_written(v, id_number="110101200707070023", name="吴芳", written=BOTH_WRITTEN)
    await page.get_by_role("link", name="口试报考").click()
    # One campus each, preselected (school 99103 keeps its candidates at home).
    await expect(page.locator("#campuses-F").get_by_role("radio")).to_be_checked()
    await expect(page.locator("#campuses-S").get_by_role("radio")).to_be_checked()

    # While she reads, the last S seat goes: operations close the campus at what is held.
    s = _offering(stack, "S")
    _set_capacity(stack, s["id"], s["held"])
    v.expect_failure("/api/enrolment/me/oral", 409)
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("[data-result=F]")).to_have_text("英语四级口试：报考成功，请在24小时内完成支付")
    await expect(page.locator("[data-result=S]")).to_have_text("英语六级口试：该校区考位已报满，请选择其他校区")
    await expect(page.locator("#oral").get_by_role("alert")).to_have_text("该校区考位已报满，请选择其他校区")
    # Redrawn from fresh answers: F is hers now, S reads 无.
    await expect(page.locator("#oral-F-taken")).to_have_text("已报考英语四级口试")
    await expect(page.locator("#campuses-S [data-colour]")).to_have_text("无")
    await v.shot("oral-results")
    await page.get_by_role("link", name="返回").click()
    await expect(page.locator("#oral-table")).to_contain_text("(F) 英语四级口试")
    _set_capacity(stack, s["id"], s["capacity"])
