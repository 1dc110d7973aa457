"""Issue 15, "Done when": operations create a school teacher in the console; the teacher sets a
password from the mailed link, logs in with a TOTP code (enrolling at the first log-in, the code
computed with pyotp from the key the console shows) and reviews a CET6 application of their own
school only: another school's is not in their list, and deciding it by id is 404 (the scope rule
of every service, README "Staff scopes"). Operations then see the teacher's last log-in."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from playwright.async_api import expect
from staff_steps import console_log_in, set_first_password

TEACHER_PASSWORD = "Teacher-Totp-2026!"
OWN_SCHOOL, OTHER_SCHOOL = "99102", "99103"
HEADER = (
    "province_code,province_name,school_code,school_name,campus_code,campus_name,campus_offers_cet6,id_type,id_number,name,gender,"
    "education_level,program_years,entry_year,grade,department,major,class,student_number,remarks,qualification_subjects,cet6_barred"
)


@dataclass(frozen=True)
class Applicant:
    school: str
    id_number: str
    name: str
    ticket: str

    def registry_row(self) -> str:
        n = self.school[-1]
        return f"99,测试省,{self.school},测试学校0{n},{self.school}0,{self.school}-0校区,是,澳门身份证,{self.id_number},{self.name},女,本科,4,16,01,外国语学院,英语,1,81,,1;3,否"

    def score_row(self) -> str:
        # Rule 2: ticket number and name match, the ID number does not → 未复核 until a teacher decides.
        return f"{self.ticket},99109999999,{self.name},480,2016,2"


def _applicants() -> tuple[Applicant, Applicant]:
    tail = f"{int(time.time() * 1000) % 100_000:05d}"  # fresh people for each run of the package
    return (
        Applicant(OWN_SCHOOL, f"991020{tail}", "韩梅", f"99102016210{tail[-4:]}"),
        Applicant(OTHER_SCHOOL, f"991030{tail}", "林涛", f"99103016210{tail[-4:]}"),
    )


def _apply_for_cet6_review(stack, tmp_path, applicant: Applicant) -> str:
    """The applicant's registry row and CET4 score (as operations import them), then the
    application through the API; returns the candidate's token."""
    students, scores = tmp_path / f"students-{applicant.school}.csv", tmp_path / f"scores-{applicant.school}.csv"
    students.write_text(HEADER + "\n" + applicant.registry_row() + "\n", encoding="utf-8")
    scores.write_text("ticket_number,id_number,name,score,year,half\n" + applicant.score_row() + "\n", encoding="utf-8")
    stack.run_cli("eligibility-admin", "import-students", str(students))
    stack.run_cli("eligibility-admin", "import-scores", str(scores))
    _, token = stack.bind_candidate("macao_id", applicant.id_number, applicant.name)
    applied = stack.api(
        "POST",
        "/eligibility/cet6-review",
        token=token,
        json={"id_type": "macao_id", "id_number": applicant.id_number, "name": applicant.name, "ticket_number": applicant.ticket, "confirmed": True},
    )
    assert applied.status_code == 201 and applied.json()["status"] == "pending", applied.text
    return token


@dataclass(frozen=True)
class WalkStep:
    actor: str  # an email
    kind: str
    target: str


def assert_the_audit_trail_shows_the_walk(stack, ops_token: str, walk: list[WalkStep]) -> None:
    """Issue 15, point 2: every step of this walk is on the audit trail, with who, from which
    address, what and the after; and what each step left behind is where staff can see it."""
    staff = {a["email"]: a for a in stack.api("GET", "/passport/staff/accounts", token=ops_token).json()}

    def trail(service: str, **wanted: str) -> list[dict]:
        answer = stack.api("GET", f"/{service}/ops/audit", token=ops_token, params=wanted)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    for step in walk:
        actor = staff[step.actor]["passport_id"]
        if step.kind == "staff_account_created":
            target = staff[step.target]
            assert target["role"] == "teacher" and target["school_code"] == OWN_SCHOOL
            (row,) = [r for r in trail("passport", kind="staff.created", actor=actor) if r["subject_id"] == target["passport_id"]]
            assert row["actor_role"] == "ops" and row["school_code"] == OWN_SCHOOL and row["address"]
        elif step.kind == "staff_logged_in":
            assert staff[step.actor]["last_login_at"] and staff[step.actor]["second_factor"] is True
            rows = trail("passport", kind="staff.logged_in", actor=actor)
            assert rows and all(r["actor_role"] == "teacher" and r["address"] and r["school_code"] == OWN_SCHOOL for r in rows)
        elif step.kind == "cet6_review_approved":
            assert stack.api("GET", "/eligibility/cet6-review", token=step.target).json()["status"] == "approved"
            (row,) = trail("eligibility", kind="review.decided", actor=actor)
            assert row["actor_role"] == "teacher" and row["school_code"] == OWN_SCHOOL and row["after"]["status"] == "approved" and row["address"]
        else:
            raise AssertionError(f"a walk step this check does not know: {step}")


async def test_ops_create_a_teacher_who_logs_in_with_totp_and_reviews_their_own_school_only(visit, stack, tmp_path) -> None:
    own, other = _applicants()
    own_token = _apply_for_cet6_review(stack, tmp_path, own)
    other_token = _apply_for_cet6_review(stack, tmp_path, other)
    teacher_email = f"t{uuid.uuid4().hex[:8]}.{OWN_SCHOOL}@example.com"

    # Operations create the teacher of 99102 in the console.
    ops = await visit("ops")
    await console_log_in(ops, "ops@cet.test")
    op = ops.page
    await op.get_by_role("tab", name="员工账号管理").click()
    await op.get_by_label("邮箱").fill(teacher_email)
    await op.get_by_label("角色").select_option(label="学校负责老师")
    await op.get_by_label("学校代码（5位）").fill(OWN_SCHOOL)
    await ops.shot("staff-form")
    await op.get_by_role("button", name="创建账号").click()
    row = op.locator("#staff-table tr", has_text=teacher_email)
    # Creating hashes a throw-away password (argon2) and queues the mail: slow on a loaded machine.
    await expect(row).to_contain_text(f"学校{OWN_SCHOOL}", timeout=30_000)
    await expect(row.locator("[data-last-login]")).to_have_text("从未登录")
    await ops.shot("staff-created")

    # The teacher sets a password from the mailed link, then enrols TOTP at the first log-in.
    teacher = await visit("teacher")
    tp = teacher.page
    await set_first_password(teacher, stack, teacher_email, TEACHER_PASSWORD)
    await teacher.shot("password-set")
    await console_log_in(teacher, teacher_email, TEACHER_PASSWORD)
    await expect(tp.locator("#who")).to_contain_text(f"学校{OWN_SCHOOL}")
    cookie = next(c for c in await tp.context.cookies() if c["name"] == "cet_access")
    claims = jwt.decode(cookie["value"], options={"verify_signature": False})
    assert claims["school"] == OWN_SCHOOL and claims["exp"] - claims["iat"] == 15 * 60  # shorter than a candidate's 30 min

    # Their own school's application is listed, the other school's is not; they approve theirs.
    listed = tp.locator("#reviews tr", has_text=own.ticket)
    await expect(listed).to_contain_text(own.name)
    await expect(tp.locator("#reviews")).not_to_contain_text(other.ticket)
    await teacher.shot("teacher-own-school-reviews")
    await listed.get_by_label("复核意见").fill("已核验学校出具的成绩证明")
    await listed.get_by_role("button", name="复核通过").click()
    await expect(tp.locator("#no-reviews")).to_be_visible()
    await teacher.shot("teacher-approved")

    # The other school's application, by its id with the teacher's own session: 404, untouched.
    other_teacher = stack.token(uuid.uuid4().hex.upper(), "teacher", school_code=OTHER_SCHOOL)
    (pending,) = [
        r
        for r in stack.api("GET", "/eligibility/teacher/cet6-reviews?status=pending", token=other_teacher).json()["items"]
        if r["ticket_number"] == other.ticket
    ]
    refused = stack.api("POST", f"/eligibility/teacher/cet6-reviews/{pending['id']}/approve", token=cookie["value"], json={})
    assert refused.status_code == 404 and refused.json()["code"] == "review_not_found", refused.text
    assert stack.api("GET", "/eligibility/cet6-review", token=other_token).json()["status"] == "pending"
    assert stack.api("GET", "/eligibility/cet6-review", token=own_token).json()["status"] == "approved"

    # Operations see the teacher's last log-in and the enrolled second factor.
    await op.get_by_role("tab", name="考位容量监控").click()
    await op.get_by_role("tab", name="员工账号管理").click()
    await expect(row.locator("[data-last-login]")).not_to_have_text("从未登录")
    await expect(row).to_contain_text("已绑定")
    await ops.shot("staff-last-login")

    ops_token = next(c for c in await op.context.cookies() if c["name"] == "cet_access")["value"]
    assert_the_audit_trail_shows_the_walk(
        stack,
        ops_token,
        [
            WalkStep("ops@cet.test", "staff_account_created", teacher_email),
            WalkStep(teacher_email, "staff_logged_in", teacher_email),
            WalkStep(teacher_email, "cet6_review_approved", own_token),
        ],
    )
