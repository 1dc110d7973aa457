"""The staff console (/console/) next to the candidate's portal: a school teacher approves a
pending CET6 review the candidate just submitted (E10 rule 2), a support agent rebinds a
registration to the candidate's new passport account (E12, P8b), and operations watch the live
remaining capacity and change it (N11, O1)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

try:
    from candidate_steps import agree, query_qualification
    from playwright.async_api import expect
    from staff_steps import console_log_in  # staff log in with their password and a TOTP code (issue 15)
except ImportError:  # not installed: the `browser` fixture fails every test here and says how to install it
    expect = console_log_in = agree = query_qualification = None

SESSION_ID = "5a0e1c2d-2026-4b0e-9000-00000000b001"


async def test_e10_rule2_teacher_approves_the_pending_cet6_review_in_the_console(visit, stack) -> None:
    student = await visit("candidate")
    page = student.page
    student_email = f"li.{uuid.uuid4().hex[:8]}@example.com"
    await student.register(student_email, "Cet-Review-2026")
    await student.log_in(student_email, "Cet-Review-2026")
    await agree(page)
    await query_qualification(page, id_type="澳门身份证", id_number="99101000002", name="李博")
    await expect(page.locator("#qualification")).to_have_text("英语四级笔试; 日语四级笔试; 日语六级笔试")
    await student.shot("confirm-with-cet6-button")

    await page.get_by_role("button", name="CET6资格复核").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_role("heading", name="新增CET6资格复核申请")).to_be_visible()
    await expect(dialog.get_by_label("姓名")).to_have_value("李博")
    await expect(dialog.get_by_label("证件号码")).to_have_value("99101000002")
    await dialog.get_by_label("准考证号：", exact=True).fill("993010162100101")
    student.expect_failure("/api/eligibility/cet6-review", 422)
    await dialog.get_by_role("button", name="保存并提交复核").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("请勾选")  # the confirm box first
    await dialog.get_by_label(re.compile("我确认提交复核的信息所有者为本人")).check()
    await student.shot("cet6-review-form")
    await dialog.get_by_role("button", name="保存并提交复核").click()
    # Rule 2: ticket number + name match, the ID number does not → 未复核, every field masked.
    await expect(dialog.get_by_role("heading", name="查看复核申请信息")).to_be_visible()
    await expect(dialog.locator("#review-status")).to_have_text("未复核")
    await expect(dialog.locator("#review-view")).to_contain_text("*****")
    await expect(dialog.locator("#review-view")).not_to_contain_text("99101000002")
    await expect(dialog.get_by_role("button", name="修改并重新提交")).to_have_count(0)
    await student.shot("cet6-review-pending-masked")
    await dialog.get_by_role("button", name="关闭").click()

    teacher = await visit("teacher")
    await console_log_in(teacher, "teacher@99301.test")
    row = teacher.page.locator("#reviews tr", has_text="993010162100101")
    await expect(row).to_contain_text("李博")
    await teacher.shot("teacher-pending-reviews")
    await row.get_by_label("复核意见").fill("已核验学校出具的成绩证明")
    await row.get_by_role("button", name="复核通过").click()
    await expect(teacher.page.locator("#no-reviews")).to_be_visible()
    await teacher.shot("teacher-approved")

    # The candidate sees 复核通过, and English CET6 is now among the qualification subjects.
    await page.get_by_role("button", name="CET6资格复核").click()
    await expect(page.get_by_role("dialog").locator("#review-status")).to_have_text("复核通过")
    await student.shot("cet6-review-approved")
    await page.get_by_role("dialog").get_by_role("button", name="关闭").click()
    await page.goto("/query")
    await query_qualification(page, id_type="澳门身份证", id_number="99101000002", name="李博")
    await expect(page.locator("#qualification")).to_contain_text("英语六级笔试")
    await expect(page.get_by_role("button", name="CET6资格复核")).to_have_count(0)
    await student.shot("confirm-with-cet6")


async def test_e12_support_rebinds_a_registration_to_the_new_passport_account(visit, stack) -> None:
    old_passport, _ = stack.bind_candidate("resident_id_card", "110101200002020034", "陈静")

    student = await visit("candidate")
    page = student.page
    student_email = f"chen.{uuid.uuid4().hex[:8]}@example.com"
    await student.register(student_email, "Cet-Rebind-2026")
    await student.log_in(student_email, "Cet-Rebind-2026")
    await expect(page.locator("#registration-status")).to_have_text("未报名或当前通行证账号非报名时账号")
    # E7: the new account cannot take the registration bound to the old one; it is told where to go.
    await agree(page)
    await query_qualification(page, id_type="中华人民共和国居民身份证", id_number="110101200002020034", name="陈静")
    await page.get_by_label("我已检查并确认学籍与资格信息正确").check()
    student.expect_failure("/api/eligibility/registrations", 409)
    await page.locator("#save-button").click()
    await expect(page.locator("#save").get_by_role("alert")).to_contain_text("该考生的报名信息已绑定到其他通行证账号")
    await expect(page.get_by_role("link", name="找回已报名账号")).to_be_visible()
    await student.shot("already-bound-elsewhere")
    await page.goto("/account")
    new_passport = (await page.locator("#passport-id").inner_text()).strip()
    assert re.fullmatch(r"[0-9A-F]{32}", new_passport)
    await student.shot("account-page-passport-id")

    support = await visit("support")
    await console_log_in(support, "support@cet.test")
    sp = support.page
    await sp.get_by_label("证件类型").select_option(label="中华人民共和国居民身份证")
    await sp.get_by_label("证件号码").fill("110101200002020034")
    await sp.get_by_role("button", name="查找").click()
    found = sp.locator("[data-registration]")
    await expect(found).to_have_count(1)
    await expect(found.locator("[data-passport]")).to_have_text(old_passport)
    await expect(found).not_to_contain_text("陈静")  # names are masked for support
    await found.get_by_label("新通行证ID").fill(new_passport)
    await found.get_by_label("原因").fill("注册邮箱错误且忘记密码，考生已重新注册")
    await support.shot("support-found")
    await found.get_by_role("button", name="重新绑定").click()
    await expect(found.locator("[data-passport]")).to_have_text(new_passport)
    await support.shot("support-rebound")
    # A wrong passport ID is refused in Chinese where the agent is typing.
    await found.get_by_label("新通行证ID").fill("NOT-A-PASSPORT-ID")
    support.expect_failure("/api/eligibility/support/registrations/", 422)
    await found.get_by_role("button", name="重新绑定").click()
    await expect(found.get_by_role("alert")).to_have_text(re.compile(r"[\u4e00-\u9fff]"))
    await support.shot("support-refused")

    # The candidate's new account now holds the registration.
    await page.goto("/start")
    await expect(page.locator("#registration-status")).to_have_text("已保存报名信息")
    await expect(page.locator("#header-name")).to_have_text("陈静")
    await student.shot("start-after-rebind")


async def test_n11_operations_watch_live_capacity_and_change_it(visit, stack) -> None:
    ops = await visit("ops")
    await console_log_in(ops, "ops@cet.test")
    page = ops.page
    await page.get_by_role("tab", name="考位容量监控").click()
    await page.get_by_label("考次ID").fill(SESSION_ID)
    await page.get_by_role("button", name="开始监控").click()
    row = page.locator("#capacity-table tr", has_text="(991020)99102-0校区").filter(has_text="(F) 英语四级口试")
    await expect(row.locator("[data-remaining]")).to_be_visible()
    await ops.shot("capacity-watch")

    # Another operator raises the capacity: the table follows without a reload (polling).
    offering = await row.get_attribute("data-offering")
    token = stack.token(uuid.uuid4().hex.upper(), "ops")
    before = int(await row.locator("td").nth(2).inner_text())
    changed = stack.api("PUT", f"/enrolment/ops/offerings/{offering}/capacity", token=token, json={"capacity": before + 5})
    assert changed.status_code == 200, changed.text
    await expect(row.locator("td").nth(2)).to_have_text(str(before + 5), timeout=10_000)

    # And back down through the console's own form.
    await row.get_by_label("新容量").fill(str(before))
    await row.get_by_role("button", name="修改").click()
    await expect(row.locator("td").nth(2)).to_have_text(str(before))
    await ops.shot("capacity-changed")
    # Below the seats already held is refused, in Chinese.
    held = int(await row.locator("td").nth(3).inner_text())
    if held:
        ops.expect_failure("/api/enrolment/ops/offerings/", 409)
        await row.get_by_label("新容量").fill(str(held - 1))
        await row.get_by_role("button", name="修改").click()
        await expect(page.locator("#watch-form").get_by_role("alert")).to_contain_text("容量不能低于已占用考位数")


async def test_e13_n8_teacher_imports_students_and_locks_collective_payment(visit, stack, tmp_path) -> None:
    teacher = await visit("teacher")
    await console_log_in(teacher, "teacher@99301.test")
    page = teacher.page

    # E13: the school's own registry file, uploaded from the console.
    csv = tmp_path / "students-99301.csv"
    csv.write_text(
        "province_code,province_name,school_code,school_name,campus_code,campus_name,campus_offers_cet6,id_type,id_number,name,gender,"
        "education_level,program_years,entry_year,grade,department,major,class,student_number,remarks,qualification_subjects,cet6_barred\n"
        "99,测试省,99301,测试学校机构01,993010,测试校区机构001,是,澳门身份证,99101000077,周杰,男,本科,4,16,01,化学学院,物理,1,77,,1;3,否\n",
        encoding="utf-8",
    )
    await page.get_by_role("tab", name="学籍导入").click()
    await page.get_by_label("CSV文件（UTF-8编码）").set_input_files(str(csv))
    await page.get_by_role("button", name="上传导入").click()
    await expect(page.locator("#students-upload [data-result]")).to_have_text("导入成功：共1行，新增1，更新0")
    await teacher.shot("teacher-imported")

    # Another school's students are not the teacher's to import: refused in Chinese.
    other = tmp_path / "students-99101.csv"
    other.write_text(csv.read_text(encoding="utf-8").replace("99301,测试学校机构01,993010", "99101,测试学校,991010"), encoding="utf-8")
    await page.get_by_label("CSV文件（UTF-8编码）").set_input_files(str(other))
    teacher.expect_failure("/api/eligibility/registry/students", 422)
    await page.get_by_role("button", name="上传导入").click()
    await expect(page.locator("#students-upload").get_by_role("alert")).to_have_text(re.compile(r"[\u4e00-\u9fff]"))
    await teacher.shot("teacher-import-refused")

    # N8: the new student saves and enrols through the APIs; the teacher locks the unpaid subject.
    _, token = stack.bind_candidate("macao_id", "99101000077", "周杰")
    assert stack.api("POST", "/enrolment/me/notices/acknowledgement", token=token).status_code == 200
    assert stack.api("POST", "/enrolment/me/written", token=token, json={"subject_codes": ["3"]}).status_code == 201
    enrolment_id = stack.api("GET", "/enrolment/me/registration", token=token).json()["written"]["rows"][0]["enrolment_id"]

    await page.get_by_role("tab", name="集体缴费锁定").click()
    box = page.get_by_role("checkbox", name=re.compile("日语四级"))
    await expect(box).to_have_value(enrolment_id)
    await box.check()
    await teacher.shot("teacher-unpaid")
    await page.get_by_role("button", name="锁定所选").click()
    await expect(page.locator("#unpaid-table")).to_contain_text("已锁定")
    await teacher.shot("teacher-locked")
    row = stack.api("GET", "/enrolment/me/registration", token=token).json()["written"]["rows"][0]
    assert row["locked"] is True and row["cancellable"] is False
    assert stack.api("DELETE", f"/enrolment/me/enrolments/{enrolment_id}", token=token).status_code >= 400


async def test_n1_operations_set_up_an_exam_session_in_the_console(visit, stack) -> None:
    """Created, not published: publishing would open a second session for every other test here."""
    ops = await visit("ops", timezone_id="America/New_York")  # what she types is Beijing time wherever her laptop is
    await console_log_in(ops, "ops@cet.test")
    page = ops.page
    await expect(page.get_by_role("tab", name="考次设置与发布")).to_have_attribute("aria-selected", "true")
    await page.get_by_label("考次名称").fill("2027年上半年CET考试（控制台测试）")
    await page.get_by_label("年份").fill("2027")
    await page.get_by_label("上/下半年").select_option(label="上半年")
    await page.get_by_label("考生网上报名开始时间").fill("2027-03-01T09:00")
    await page.get_by_label("考生网上报名结束时间").fill("2027-03-20T17:00")
    await page.get_by_label("笔试日期").fill("2027-06-12")
    await page.get_by_label("英语四级口试日期").fill("2027-05-22")
    await ops.shot("session-form")
    await page.get_by_role("button", name="创建考次").click()
    await expect(page.get_by_label("考次ID")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    created = await page.get_by_label("考次ID").input_value()
    await ops.shot("session-created")
    stored = stack.api("GET", f"/enrolment/ops/sessions/{created}", token=stack.token(uuid.uuid4().hex.upper(), "ops")).json()["session"]
    assert datetime.fromisoformat(stored["registration_opens_at"]) == datetime(2027, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 Beijing
    assert datetime.fromisoformat(stored["registration_closes_at"]) == datetime(2027, 3, 20, 9, 0, tzinfo=UTC)

    # A broken document is refused before anything is sent, in Chinese.
    await page.get_by_label(re.compile("校区、科目")).fill("{not json")
    await page.get_by_role("button", name="创建考次").click()
    await expect(page.locator("#session-form").get_by_role("alert")).to_have_text("JSON格式不正确，请检查校区与通告设置")

    await page.get_by_role("tab", name="考位容量监控").click()
    await expect(page.get_by_label("考次ID")).to_have_value(created)
    await page.get_by_role("button", name="开始监控").click()
    await expect(page.locator("#watch-status")).to_contain_text("2027年上半年CET考试（控制台测试）")
    await expect(page.locator("#capacity-table")).to_contain_text("(F) 英语四级口试")
    await ops.shot("session-capacity")
