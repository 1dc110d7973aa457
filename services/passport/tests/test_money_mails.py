"""Issue 14.1 — the mails about money (Y6, Y4): a receipt only for what a payment bought; a refund
notice, not a receipt, when money went back. The consumer's handlers on the real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from cet_shared.events.contracts import PaidSubject, PaymentAllocated, RefundCompleted
from cet_shared.events.envelope import EventEnvelope
from passport.db.tables import mail_queue
from passport.events.consumers import build_consumers


async def feed(ctx, event, key: str) -> None:
    await build_consumers(ctx)[0].dispatch(EventEnvelope.wrap(event, key=key, producer="test").model_dump_json().encode(), topic=event.topic)


async def mails(ctx, to: str) -> list:
    """The mails about money to `to` (sign-up's verification mail aside)."""
    async with ctx.sessions() as session:
        rows = (await session.execute(select(mail_queue.c.subject, mail_queue.c.body).where(mail_queue.c.to_address == to).order_by(mail_queue.c.id))).all()
    return [r for r in rows if "缴费" in r.subject or "退款" in r.subject]


def allocated(passport_id: str, honoured: list[PaidSubject], refused: list[uuid.UUID], order_id: uuid.UUID) -> PaymentAllocated:
    return PaymentAllocated(
        order_id=order_id,
        registration_id=uuid.uuid4(),
        passport_id=passport_id,
        gateway="alipay",
        gateway_transaction_id="2026120222001",
        paid_at=datetime.now(UTC),
        amount_fen=len(honoured) + len(refused),
        honoured=honoured,
        honoured_fen=sum(s.fee_fen for s in honoured),
        refused_enrolment_ids=refused,
        refund_fen=len(refused),
    )


async def test_y4_y6_a_late_payment_without_a_seat_gets_no_receipt_and_a_refund_notice_once_refunded(api, ctx):
    passport_id = await api.signup(email="late@example.com")
    oral = PaidSubject(enrolment_id=uuid.uuid4(), subject_code="F", subject_name="英语四级口试", fee_fen=1)
    order_id = uuid.uuid4()
    await feed(ctx, allocated(passport_id, [], [oral.enrolment_id], order_id), key="r")
    assert await mails(ctx, "late@example.com") == [], "nothing was bought: no 缴费成功通知"

    await feed(
        ctx,
        RefundCompleted(
            order_id=order_id,
            registration_id=uuid.uuid4(),
            enrolment_ids=[oral.enrolment_id],
            amount_fen=1,
            refunded_at=datetime.now(UTC),
            passport_id=passport_id,
            subjects=[oral],
            reason="late_payment_no_seat",
            gateway="alipay",
        ),
        key="r",
    )
    [(subject, body)] = await mails(ctx, "late@example.com")
    assert subject == "CET报名网 退款通知" and "缴费成功" not in subject
    assert "已原路退回" in body and "退款金额：0.01元" in body and "(F)英语四级口试  0.01元" in body and "支付宝" in body
    assert "考位已被他人报满" in body and str(order_id) in body


async def test_y6_a_partly_honoured_payment_receipts_only_what_it_bought(api, ctx):
    passport_id = await api.signup(email="partly@example.com")
    written = PaidSubject(enrolment_id=uuid.uuid4(), subject_code="1", subject_name="英语四级笔试", fee_fen=1)
    await feed(ctx, allocated(passport_id, [written], [uuid.uuid4()], uuid.uuid4()), key="r")
    [(subject, body)] = await mails(ctx, "partly@example.com")
    assert subject == "CET报名网 缴费成功通知"
    assert "(1)英语四级笔试  0.01元" in body and "口试" not in body and "金额：0.01元" in body and "科目数：1" in body
    assert "其余0.01元未能报考成功，将原路退回" in body
