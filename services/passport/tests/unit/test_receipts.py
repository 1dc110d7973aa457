"""Y6/Y4: the money mails' handlers on the in-memory unit of work — a receipt only for what was
bought, no mail for an unknown account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from cet_shared.events.contracts import PaidSubject, PaymentAllocated
from passport.domain.accounts import Account
from passport.service.receipts import send_receipt

PID = "7DCE2A03B4B74FC9A55F6CA86F73A903"


def allocated(passport_id: str, honoured: list[PaidSubject]) -> PaymentAllocated:
    return PaymentAllocated(
        order_id=uuid.uuid4(),
        registration_id=uuid.uuid4(),
        passport_id=passport_id,
        gateway="alipay",
        gateway_transaction_id="2026120222001",
        paid_at=datetime.now(UTC),
        amount_fen=1,
        honoured=honoured,
        honoured_fen=sum(s.fee_fen for s in honoured),
        refused_enrolment_ids=[],
        refund_fen=0,
    )


async def test_y6_a_receipt_goes_to_the_accounts_address_with_the_commit(uow):
    uow.committed.accounts[PID] = Account(passport_id=PID, email="paid@example.com", password_hash="x")
    written = PaidSubject(enrolment_id=uuid.uuid4(), subject_code="1", subject_name="英语四级笔试", fee_fen=1)
    async with uow:
        await send_receipt(uow, allocated(PID, [written]))
        await send_receipt(uow, allocated(PID, []))  # nothing bought: no receipt
        await send_receipt(uow, allocated("B" * 32, [written]))  # no such account: no one to write to
        assert uow.committed.mail == [], "not before the commit"
        await uow.commit()
    [mail] = uow.committed.mail
    assert (mail.to, mail.subject) == ("paid@example.com", "CET报名网 缴费成功通知") and "(1)英语四级笔试  0.01元" in mail.body
