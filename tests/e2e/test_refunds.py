"""Issue 14.1 — a late payment that cannot re-take its seat, walked through the gateway against the
real processes (Y4, Y6, N12): the money goes back in the sandbox's ledger; the order, the subject,
the registration info page and the support console's 更新 read refund pending → refunded, never
paid; the candidate gets a receipt for what bought a seat and a refund notice, not a receipt, for
what went back."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from cet_stack import Mailbox, Stack
from e2e_clients import User, pay_in_the_sandbox, register, registration_page, school_campus, wait_until

pytestmark = pytest.mark.kafka


async def candidate(stack: Stack, identity: dict) -> User:
    """A real account (its mails land in the sink), the agreement, the registration saved and known to enrolment."""
    user = await register(stack)
    version = (await user.get("/api/eligibility/agreement")).json()["version"]
    assert (await user.post("/api/eligibility/agreement", json={"version": version, "accepted": True})).status_code == 200
    saved = await user.post("/api/eligibility/registrations", json={**identity, "confirmed": True})
    assert saved.status_code == 200, saved.text
    await wait_until(lambda: _known(user), timeout=60, interval=0.3, what="enrolment to learn the registration")
    assert (await user.post("/api/enrolment/me/notices/acknowledgement")).status_code == 200
    return user


async def _known(user: User) -> bool:
    return (await user.get("/api/enrolment/me/registration")).status_code == 200


async def pay(stack: Stack, user: User, enrolment_ids: list[str], gateway: str, bank: str | None = None) -> tuple[str, str]:
    order = await user.post("/api/payment/orders", json={"enrolment_ids": enrolment_ids})
    assert order.status_code == 201, order.text
    checkout = await user.post(f"/api/payment/orders/{order.json()['order_id']}/checkout", json={"gateway": gateway, "bank": bank})
    assert checkout.status_code == 200, checkout.text
    return order.json()["order_id"], checkout.json()


async def money_mails(stack: Stack, user: User) -> list[tuple[str, str]]:
    return [
        (str(m["Subject"]), Mailbox.body(m))
        for m in stack.mailbox.messages()
        if user.email.lower() in str(m["To"]).lower() and ("缴费" in str(m["Subject"]) or "退款" in str(m["Subject"]))
    ]


async def test_y4_y6_n12_a_late_payment_without_a_seat_is_refunded_and_every_state_and_mail_says_so(
    stack: Stack, staff: dict[str, User], open_session: uuid.UUID
) -> None:
    assert {"enrolment", "payment"} <= set(stack.services)
    identities, offering_id = await school_campus(staff["ops"], open_session, "99407", 2, oral_capacity=1)
    late, other = [await candidate(stack, identity) for identity in identities]

    # The written subject is paid in time (首信易支付): a receipt for it.
    written = await late.post("/api/enrolment/me/written", json={"subject_codes": ["1"]})
    assert written.status_code == 201, written.text
    _, checkout = await pay(stack, late, written.json()["enrolment_ids"], "payease", "boc")
    await pay_in_the_sandbox(stack, checkout)
    [receipt] = await stack.mailbox.wait(late.email, "缴费成功通知", timeout=40)
    assert "(1)英语四级" in Mailbox.body(receipt)

    # The oral seat, ordered but not paid within 24 h: it expires and the next candidate takes it.
    taken = await late.post("/api/enrolment/me/oral", json={"offering_id": offering_id})
    assert taken.status_code == 201, taken.text
    [oral_id] = taken.json()["enrolment_ids"]
    oral_order, checkout = await pay(stack, late, [oral_id], "alipay")
    connection = await asyncpg.connect(stack.database_urls["enrolment"].replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute("UPDATE enrolments SET expires_at = now() - interval '1 second' WHERE id = $1", uuid.UUID(oral_id))
    finally:
        await connection.close()
    await wait_until(lambda: _oral_gone(late), timeout=30, what="the sweeper to expire the unpaid oral subject")
    await other.post("/api/enrolment/me/written", json={"subject_codes": ["1"]})
    second = await other.post("/api/enrolment/me/oral", json={"offering_id": offering_id})
    assert second.status_code == 201, second.text

    # The late candidate pays anyway: the money goes back, and says so everywhere.
    out_trade_no = await pay_in_the_sandbox(stack, checkout)
    async with httpx.AsyncClient(base_url=stack.url("sandbox"), timeout=10) as sandbox:

        async def ledger() -> dict | None:
            trade = (await sandbox.get(f"/sandbox/trades/{out_trade_no}")).json()
            return trade if trade["refunds"] else None

        trade = await wait_until(ledger, timeout=60, interval=0.3, what="the sandbox to refund the late payment")
    assert (trade["status"], trade["amount"], [r["amount"] for r in trade["refunds"]]) == ("TRADE_SUCCESS", "0.01", ["0.01"])

    async def refunded_on_the_page() -> dict | None:
        page = await registration_page(late)
        refunds = page["oral"]["refunds"]
        return page if refunds and refunds[0]["refund_status"] == "refunded" else None

    page = await wait_until(refunded_on_the_page, timeout=60, interval=0.3, what="the info page to show the refund")
    assert page["oral"]["rows"] == [], "no paid subject without a seat"
    [refund] = page["oral"]["refunds"]
    assert (refund["enrolment_id"], refund["subject_code"], refund["refund_status_label"]) == (oral_id, "F", "已退款")
    assert [(r["subject_code"], r["payment_status"]) for r in page["written"]["rows"]] == [("1", "已支付")] and page["written"]["refunds"] == []

    order = (await late.get(f"/api/payment/orders/{oral_order}")).json()
    assert (order["status"], order["status_label"], order["refund_status"]) == ("refunded", "已退款", "refunded")
    assert [(line["enrolment_id"], line["status"]) for line in order["lines"]] == [(oral_id, "refunded")]
    registration_id = page["registration_id"]
    refreshed = await staff["support"].post(f"/api/payment/registrations/{registration_id}/refresh")  # the console's 更新支付状态
    assert refreshed.status_code == 200, refreshed.text
    assert sorted((o["status"], o["refund_status"]) for o in refreshed.json()) == [("paid", None), ("refunded", "refunded")]

    refund_mails = await stack.mailbox.wait(late.email, "退款通知", timeout=40)
    assert len(refund_mails) == 1
    body = Mailbox.body(refund_mails[0])
    assert "(F)英语四级口试  0.01元" in body and "退款金额：0.01元" in body and "已原路退回" in body
    mails = await money_mails(stack, late)
    assert [subject for subject, _ in mails].count("CET报名网 缴费成功通知") == 1, "a receipt only for the money that bought a seat"
    assert not any("口试" in text for subject, text in mails if "缴费成功" in subject)
    assert await money_mails(stack, other) == [], "the candidate who took the seat paid nothing yet"


async def _oral_gone(user: User) -> bool:
    return not (await registration_page(user))["oral"]["rows"]
