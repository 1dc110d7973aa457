"""N12: everything the registration info page (报名信息) shows, in one read."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.clock import SHANGHAI, Clock
from cet_shared.privacy import mask_id_number
from enrolment.db.context import load_registration_row
from enrolment.db.tables import enrolments, exam_sessions, offerings, refunds, waitlist
from enrolment.domain.rules import flow_steps, inside, payment_summary
from enrolment.domain.subjects import SUBJECTS
from enrolment.service.notices import notices_for
from enrolment.service.problems import registration_not_found

PAYMENT_LABEL = {True: "已支付", False: "未支付"}
# Y4: money on its way back is its own state on the page, never "已支付".
REFUND_LABEL = {"refund_pending": "退款中", "refunded": "已退款", "refund_failed": "退款失败，请联系客服"}
REFUND_REASON = {
    "late_payment_no_seat": "支付时科目已过期且考位已满",
    "subject_not_payable": "科目已不可支付",
    "duplicate_payment": "重复支付",
}


def refund_state(refund) -> str:  # noqa: ANN001 - a refunds row
    if refund["completed_at"] is not None:
        return "refunded"
    return "refund_failed" if refund["failed_at"] is not None else "refund_pending"


METHOD_LABEL = {"candidate": "考生注册", "school": "学校集体"}


def _day_start(day) -> datetime:  # noqa: ANN001
    return datetime.combine(day, time(0, 0), SHANGHAI)


async def registration_page(sessions: async_sessionmaker[AsyncSession], clock: Clock, passport_id: str) -> dict[str, Any]:
    now = clock.now()
    async with sessions() as session:
        registration = await load_registration_row(session, passport_id)
        if registration is None:
            raise registration_not_found()
        exam = (await session.execute(select(exam_sessions).where(exam_sessions.c.id == registration["exam_session_id"]))).mappings().one()
        rows = (
            (
                await session.execute(
                    select(enrolments, offerings.c.school_code, offerings.c.school_name, offerings.c.campus_code, offerings.c.campus_name)
                    .join(offerings, offerings.c.id == enrolments.c.offering_id)
                    .where(enrolments.c.registration_id == registration["registration_id"], enrolments.c.seat_held)
                    .order_by(enrolments.c.enrolled_at, enrolments.c.subject_code)
                )
            )
            .mappings()
            .all()
        )
        waiting = (
            (
                await session.execute(
                    select(waitlist.c.id, waitlist.c.joined_at, offerings.c.subject_code, offerings.c.campus_code, offerings.c.campus_name)
                    .join(offerings, offerings.c.id == waitlist.c.offering_id)
                    .where(waitlist.c.registration_id == registration["registration_id"], waitlist.c.status == "waiting")
                )
            )
            .mappings()
            .all()
        )
        refund_rows = (
            (await session.execute(select(refunds).where(refunds.c.registration_id == registration["registration_id"]).order_by(refunds.c.requested_at)))
            .mappings()
            .all()
        )
        refunded_ids = {e for r in refund_rows for e in r["enrolment_ids"]}
        refunded_subjects = (
            {row["id"]: row for row in (await session.execute(select(enrolments).where(enrolments.c.id.in_(refunded_ids)))).mappings()} if refunded_ids else {}
        )
        snapshot = registration["snapshot"]
        province_notices = await notices_for(session, registration["exam_session_id"], scope="province", codes=[registration["province_code"]])
        registration_notes = await notices_for(session, registration["exam_session_id"], scope="registration_notes")

    def table(kind: str) -> dict:
        mine = [row for row in rows if row["kind"] == kind]
        status, unpaid = payment_summary((row["fee_fen"], row["status"] == "paid") for row in mine)
        tickets_open = inside(now, exam[f"{kind}_tickets_opens_at"], exam[f"{kind}_tickets_closes_at"]) if exam[f"{kind}_tickets_opens_at"] else False
        return {
            "payment_status": status,
            "unpaid_fen": unpaid,
            "rows": [
                {
                    "number": index,
                    "enrolment_id": str(row["id"]),
                    "subject_code": row["subject_code"],
                    "subject": f"({row['subject_code']}) {SUBJECTS[row['subject_code']].label}",
                    "fee_fen": row["fee_fen"],
                    "paid": row["status"] == "paid",
                    "payment_status": PAYMENT_LABEL[row["status"] == "paid"],
                    "arranged": row["arranged_at"] is not None,
                    "arrangement_status": "已编排" if row["arranged_at"] is not None else "未编排",
                    "method": METHOD_LABEL[row["method"]],
                    "school": f"({row['school_code']}){row['school_name']}",
                    "campus": f"({row['campus_code']}){row['campus_name']}",
                    "expires_at": row["expires_at"] if row["status"] == "held" else None,
                    "locked": row["locked"],
                    "cancellable": row["status"] == "held" and not row["locked"],
                    "ticket_available": row["status"] == "paid" and row["arranged_at"] is not None and tickets_open,
                }
                for index, row in enumerate(mine, start=1)
            ],
            "refunds": [
                {
                    "order_id": str(refund["order_id"]),
                    "enrolment_id": str(enrolment_id),
                    "subject_code": subject["subject_code"],
                    "subject": f"({subject['subject_code']}) {SUBJECTS[subject['subject_code']].label}",
                    "fee_fen": subject["fee_fen"],
                    "refund_status": refund_state(refund),
                    "refund_status_label": REFUND_LABEL[refund_state(refund)],
                    "reason": REFUND_REASON.get(refund["reason"], "款项原路退回"),
                    "requested_at": refund["requested_at"],
                    "completed_at": refund["completed_at"],
                }
                for refund in refund_rows
                for enrolment_id in refund["enrolment_ids"]
                if (subject := refunded_subjects.get(enrolment_id)) is not None and subject["kind"] == kind
            ],
        }

    written, oral = table("written"), table("oral")
    exam_days = [d for d in [exam["written_exam_date"]] if d]
    exam_days += [datetime.fromisoformat(v).date() for v in (exam["oral_exam_dates"] or {}).values()]
    steps = flow_steps(
        written=[(r["paid"], r["arranged"]) for r in written["rows"]],
        oral=[(r["paid"], r["arranged"]) for r in oral["rows"]],
        now=now,
        written_tickets_open=bool(exam["written_tickets_opens_at"]) and inside(now, exam["written_tickets_opens_at"], exam["written_tickets_closes_at"]),
        written_exam_day_start=_day_start(exam["written_exam_date"]) if exam["written_exam_date"] else None,
        last_exam_day_end=_day_start(max(exam_days)) + timedelta(days=1) if exam_days else None,
    )
    unpaid_written = any(not r["paid"] for r in written["rows"])
    return {
        "exam_session": {"id": str(exam["id"]), "name": exam["name"]},
        "registration_id": str(registration["registration_id"]),
        "personal": {
            "name": snapshot.get("name"),
            "gender": snapshot.get("gender"),
            "id_type": snapshot.get("id_type"),
            "id_number": mask_id_number(snapshot.get("id_number", "")),
        },
        "school": f"({registration['school_code']}){snapshot.get('school_name', '')}",
        "campus": f"({registration['campus_code']}){snapshot.get('campus_name', '')}",
        "qualification_subjects": [{"code": code, "name": SUBJECTS[code].label} for code in registration["qualification_subjects"] if code in SUBJECTS],
        "notices_acknowledged": registration["notices_acknowledged_at"] is not None,
        "released": registration["released_at"] is not None,
        "written": written,
        "oral": oral,
        "oral_empty_message": None if oral["rows"] else "当前没有报考口试科目，可通过“口试报考”进行科目报考！",
        "flow": [{"name": s.name, "state": s.state, "done": s.done} for s in steps],
        "reminder": "存在未支付笔试科目，请通过“支付缴费”进行支付。" if unpaid_written else None,
        "waiting": [
            {"id": w["id"], "subject_code": w["subject_code"], "campus": f"({w['campus_code']}){w['campus_name']}", "joined_at": w["joined_at"]}
            for w in waiting
        ],
        "notices": {"registration_notes": registration_notes, "province": province_notices},
    }
