"""Y1–Y3 against the real PostgreSQL and the in-process gateway sandbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from cet_shared.events.contracts import SubjectExpired
from payment.db.tables import notifications, order_items, orders, payments
from payment.gateways.signing import alipay_sign_content, generate_rsa_key, hmac_md5, rsa2_sign, rsa2_verify


async def test_y1_order_amount_is_computed_here_from_the_candidates_own_unpaid_subjects(world):
    passport_id, registration_id, (cet4, jp6) = await world.registration(fees=(1, 1))
    preview = await world.api.post("/orders/preview", json={"enrolment_ids": [str(cet4), str(jp6)]}, headers=world.headers(passport_id))
    assert preview.status_code == 200 and preview.json()["amount_fen"] == 2 and preview.json()["order_id"] is None
    assert "(1) 英语四级笔试" in preview.json()["confirmation"] and await world.count(orders) == 0, "去支付 stores nothing"

    order = await world.order(passport_id, [cet4, jp6])
    assert order["amount_fen"] == 2 and order["amount_yuan"] == "0.02" and order["status"] == "open"
    assert [line["subject_code"] for line in order["lines"]] == ["1", "4"]

    # The client cannot state an amount; another candidate cannot pay these subjects.
    tampered = await world.api.post("/orders", json={"enrolment_ids": [str(cet4)], "amount_fen": 0}, headers=world.headers(passport_id))
    assert tampered.status_code == 422 and tampered.json()["code"] == "invalid_request"
    stranger = await world.api.post("/orders/preview", json={"enrolment_ids": [str(cet4)]}, headers=world.headers(uuid.uuid4().hex.upper()))
    assert stranger.status_code == 404 and stranger.json()["code"] == "enrolment_not_found"
    teacher = await world.api.post("/orders/preview", json={"enrolment_ids": [str(cet4)]}, headers=world.headers(passport_id, "teacher"))
    assert teacher.status_code == 403
    anonymous = await world.api.post("/orders/preview", json={"enrolment_ids": [str(cet4)]})
    assert anonymous.status_code == 401


async def test_y1_expired_and_cancelled_subjects_cannot_be_paid(world):
    passport_id, registration_id, (cet4, jp6) = await world.registration()
    order = await world.order(passport_id, [cet4, jp6])
    await world.feed(SubjectExpired(enrolment_id=jp6, registration_id=registration_id), key=str(registration_id))
    assert await world.scalar(select(orders.c.status).where(orders.c.order_id == uuid.UUID(order["order_id"]))) == "closed"
    refused = await world.api.post("/orders", json={"enrolment_ids": [str(jp6)]}, headers=world.headers(passport_id))
    assert refused.status_code == 409 and refused.json()["code"] == "enrolment_expired"
    # Its sibling is free again for a new order.
    again = await world.order(passport_id, [cet4])
    assert again["order_id"] != order["order_id"] and again["amount_fen"] == 1
    # 24 h after enrolment the subject is no longer payable even before enrolment's sweeper ran (N8).
    world.ctx.clock.advance(timedelta(hours=24, seconds=1))
    late = await world.api.post(f"/orders/{again['order_id']}/checkout", json={"gateway": "alipay"}, headers=world.headers(passport_id))
    assert late.status_code == 409 and late.json()["code"] == "order_closed"


async def test_y1_an_enrolment_is_in_at_most_one_open_order_under_concurrency(world):
    passport_id, _, (cet4, jp6) = await world.registration()
    headers = world.headers(passport_id)
    bodies = [{"enrolment_ids": [str(cet4), str(jp6)]}, {"enrolment_ids": [str(cet4)]}] * 5
    responses = await asyncio.gather(*(world.api.post("/orders", json=body, headers=headers) for body in bodies))
    created = {r.json()["order_id"] for r in responses if r.status_code in (200, 201)}
    refused = [r for r in responses if r.status_code == 409]
    assert len(created) == 1, f"exactly one open order: {[r.status_code for r in responses]}"
    assert refused and all(r.json()["code"] == "enrolment_in_open_order" for r in refused)
    assert sum(r.status_code == 201 for r in responses) == 1
    open_for_cet4 = await world.scalar(select(func.count()).select_from(order_items).where(order_items.c.enrolment_id == cet4, order_items.c.open))
    assert open_for_cet4 == 1 and await world.count(orders) == 1


async def test_y2_checkout_gives_the_confirmation_text_and_a_signed_form_for_each_gateway(world):
    passport_id, _, (cet4, jp6) = await world.registration()
    order = await world.order(passport_id, [cet4, jp6])
    payease = await world.checkout(passport_id, order["order_id"], "payease", "boc")
    assert payease["confirmation"] == "您选择首信易支付 中国银行进行支付, 支付金额为0.02元人民币"
    fields = payease["redirect"]["fields"]
    assert payease["redirect"]["url"].endswith("/payease/prs/user_payment.checkit") and fields["v_amount"] == "0.02"
    key = world.sandbox.payease_key
    assert fields["v_md5info"] == hmac_md5(key, "".join(fields[k] for k in ("v_moneytype", "v_ymd", "v_amount", "v_rcvname", "v_oid", "v_mid", "v_url")))
    assert "中国银行" in await world.open_gateway_page(payease)

    alipay = await world.checkout(passport_id, order["order_id"], "alipay")
    assert alipay["confirmation"] == "您选择支付宝进行支付, 支付金额为0.02元人民币"
    fields = alipay["redirect"]["fields"]
    assert json.loads(fields["biz_content"])["total_amount"] == "0.02" and fields["method"] == "alipay.trade.page.pay"
    assert rsa2_verify(world.sandbox.app_public_key, alipay_sign_content(fields), fields["sign"])
    page = await world.open_gateway_page(alipay)
    assert "确认付款" in page and "¥0.02" in page
    # Checking out again with the same gateway keeps the same gateway order number.
    again = await world.checkout(passport_id, order["order_id"], "alipay")
    assert world.out_trade_no(again) == world.out_trade_no(alipay)

    no_bank = await world.api.post(f"/orders/{order['order_id']}/checkout", json={"gateway": "payease"}, headers=world.headers(passport_id))
    assert no_bank.status_code == 422 and no_bank.json()["code"] == "bank_required"


async def _paid_order(world, gateway: str = "alipay", bank: str | None = None, *, notify: bool = True):
    passport_id, registration_id, (cet4, jp6) = await world.registration()
    order = await world.order(passport_id, [cet4, jp6])
    checkout = await world.checkout(passport_id, order["order_id"], gateway, bank)
    out_trade_no = await world.pay(checkout, notify=notify)
    return passport_id, registration_id, uuid.UUID(order["order_id"]), out_trade_no, [cet4, jp6]


async def _order_status(world, order_id: uuid.UUID) -> str:
    return await world.scalar(select(orders.c.status).where(orders.c.order_id == order_id))


async def test_y3_alipay_notification_is_verified_recorded_and_applied(world):
    passport_id, registration_id, order_id, out_trade_no, enrolment_ids = await _paid_order(world)
    [delivery] = await world.wait_delivered(out_trade_no)
    assert delivery.answer == "success"
    assert await _order_status(world, order_id) == "paid"
    [confirmed] = await world.events("PaymentConfirmed")
    assert confirmed["order_id"] == str(order_id) and confirmed["registration_id"] == str(registration_id)
    assert confirmed["passport_id"] == passport_id and confirmed["amount_fen"] == 2 and confirmed["gateway"] == "alipay"
    assert sorted(confirmed["enrolment_ids"]) == sorted(map(str, enrolment_ids))
    assert confirmed["gateway_transaction_id"] == world.sandbox.trades[out_trade_no].trade_no and confirmed["paid_at"]
    # Y6: passport's receipt mail lists the subjects without knowing enrolment's data.
    assert [(s["subject_code"], s["subject_name"], s["fee_fen"]) for s in confirmed["subjects"]] == [("1", "英语四级笔试", 1), ("4", "日语六级笔试", 1)]
    async with world.ctx.sessions() as session:
        note = (await session.execute(select(notifications))).one()
    assert note.verified and note.outcome == "applied" and b"trade_status=TRADE_SUCCESS" in note.body, "recorded raw"


async def test_y3_duplicate_and_replayed_notifications_change_nothing(world):
    _, _, order_id, out_trade_no, _ = await _paid_order(world)
    await world.wait_delivered(out_trade_no)
    body, expected = world.sandbox.notification_body(world.sandbox.trades[out_trade_no])
    answers = await asyncio.gather(
        *(world.api.post("/notify/alipay", content=body, headers={"content-type": "application/x-www-form-urlencoded"}) for _ in range(6))
    )
    assert all(a.status_code == 200 and a.text == "success" for a in answers), "a duplicate is acknowledged so Alipay stops"
    assert await world.count(payments) == 1 and len(await world.events("PaymentConfirmed")) == 1
    assert await world.count(notifications) == 7, "every copy is recorded as received"


@pytest.mark.parametrize("sandbox_overrides", [{"duplicate_rate": 1.0}])
async def test_y3_the_sandbox_sends_occasional_duplicates_and_they_are_applied_once(world):
    _, _, order_id, out_trade_no, _ = await _paid_order(world)
    deliveries = await world.wait_delivered(out_trade_no, 2)
    assert [d.duplicate for d in deliveries] == [False, True] and all(d.answer == "success" for d in deliveries)
    assert await world.count(payments) == 1 and len(await world.events("PaymentConfirmed")) == 1


async def test_y3_forged_notifications_are_refused_and_change_nothing(world):
    _, _, order_id, out_trade_no, _ = await _paid_order(world, notify=False)
    genuine = world.sandbox.alipay_notification(world.sandbox.trades[out_trade_no])
    tampered = dict(genuine, total_amount="0.01")  # signature no longer matches
    foreign_key = dict(genuine)
    foreign_key["sign"] = rsa2_sign(generate_rsa_key(), alipay_sign_content(genuine))  # signed by someone else
    unsigned = {k: v for k, v in genuine.items() if k != "sign"}
    for forged in (tampered, foreign_key, unsigned):
        answer = await world.api.post("/notify/alipay", content=urlencode(forged), headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 200 and answer.text == "fail"
    for garbage, gateway in ((b"\xff\xfe\x00", "alipay"), (b"", "payease"), (b"v_oid=%ZZ&v_count=x", "payease")):
        answer = await world.api.post(f"/notify/{gateway}", content=garbage)
        assert answer.status_code == 200 and answer.text in ("fail", "error"), "bad input is refused, never a 500"
    assert await _order_status(world, order_id) == "open" and await world.count(payments) == 0
    async with world.ctx.sessions() as session:
        rows = (await session.execute(select(notifications.c.verified, notifications.c.outcome))).all()
    assert rows and all(not r.verified and r.outcome == "rejected" for r in rows)
    assert await world.events("PaymentConfirmed") == []


async def test_y3_amount_mismatch_and_foreign_app_are_recorded_but_not_applied(world):
    _, _, order_id, out_trade_no, _ = await _paid_order(world, notify=False)
    trade = world.sandbox.trades[out_trade_no]
    trade.amount = "0.01"  # Alipay says the buyer paid 0.01 for our 0.02 order
    body, _ = world.sandbox.notification_body(trade)
    answer = await world.api.post("/notify/alipay", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.text == "success", "verified and recorded: retrying would not change anything"
    assert await _order_status(world, order_id) == "open" and await world.count(payments) == 0
    assert await world.scalar(select(notifications.c.outcome)) == "amount_mismatch"

    trade.amount = "0.02"
    other_app = world.sandbox.alipay_notification(trade) | {"app_id": "2021999999999999"}
    other_app["sign"] = rsa2_sign(world.sandbox.alipay_key, alipay_sign_content(other_app))
    answer = await world.api.post("/notify/alipay", content=urlencode(other_app), headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.text == "fail" and await world.count(payments) == 0
    other_seller = world.sandbox.alipay_notification(trade) | {"seller_id": "2088999999999999"}
    other_seller["sign"] = rsa2_sign(world.sandbox.alipay_key, alipay_sign_content(other_seller))
    answer = await world.api.post("/notify/alipay", content=urlencode(other_seller), headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.text == "fail", "not our merchant: keep retrying (our configuration may be what is wrong)"
    assert await world.count(payments) == 0
    assert await world.events("PaymentConfirmed") == []


async def test_y3_payease_notification_in_gbk_is_verified_and_answered_sent(world):
    passport_id, registration_id, order_id, out_trade_no, _ = await _paid_order(world, "payease", "boc")
    [delivery] = await world.wait_delivered(out_trade_no)
    assert delivery.answer == "sent"
    assert await _order_status(world, order_id) == "paid"
    [confirmed] = await world.events("PaymentConfirmed")
    assert confirmed["gateway"] == "payease" and confirmed["gateway_transaction_id"] == out_trade_no
    async with world.ctx.sessions() as session:
        raw = (await session.execute(select(notifications.c.body))).scalar_one()
    assert world.form(raw, "gbk")["v_pmode"] == "中国银行", "the raw GBK body is kept as received"

    forged = world.form(raw, "gbk") | {"v_amount": "0.01"}
    answer = await world.api.post("/notify/payease", content=urlencode(forged, encoding="gbk"), headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.text == "error" and await world.count(payments) == 1
    replay = await world.api.post("/notify/payease", content=raw, headers={"content-type": "application/x-www-form-urlencoded"})
    assert replay.text == "sent" and await world.count(payments) == 1 and len(await world.events("PaymentConfirmed")) == 1


async def test_y3_a_second_payment_of_a_paid_order_is_refunded_not_kept(world):
    passport_id, registration_id, order_id, out_trade_no, _ = await _paid_order(world)
    await world.wait_delivered(out_trade_no)
    # The candidate had also opened PayEase before the order was paid, and pays there too.
    payease = world.sandbox.open_trade(gateway="payease", out_trade_no="20261127-8888-X", amount="0.02", subject="s", notify_url="")
    from payment.db.tables import attempts

    async with world.ctx.unit_of_work() as uow:
        await uow.session.execute(
            attempts.insert().values(
                attempt_id=uuid.uuid4(), order_id=order_id, gateway="payease", out_trade_no=payease.out_trade_no, bank="boc", created_at=world.ctx.clock.now()
            )
        )
        await uow.commit()
    world.sandbox.pay(payease.out_trade_no, notify=False)
    body, _ = world.sandbox.notification_body(payease)
    answer = await world.api.post("/notify/payease", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.text == "sent"
    assert len(await world.events("PaymentConfirmed")) == 1, "the order was confirmed once"
    from payment.db.tables import refunds

    assert await world.scalar(select(refunds.c.reason)) == "duplicate_payment"


async def test_y3_when_we_fail_to_record_the_gateway_keeps_retrying_until_we_do(world, monkeypatch):
    import payment.api.routes.notify as notify_route

    real, calls = notify_route.receive, []

    async def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database unavailable")
        return await real(*args, **kwargs)

    monkeypatch.setattr(notify_route, "receive", flaky)
    _, _, order_id, out_trade_no, _ = await _paid_order(world)
    first, second = await world.wait_delivered(out_trade_no, 2)
    assert (first.attempt, first.answer) == (1, "fail"), "not recorded: Alipay must come back"
    assert (second.attempt, second.answer) == (2, "success")
    assert await _order_status(world, order_id) == "paid" and await world.count(payments) == 1


async def test_y1_after_support_rebinds_a_registration_only_the_new_account_can_pay_and_is_confirmed(world):
    from cet_shared.events.contracts import RegistrationRebound, RegistrationReleased

    old, registration_id, (cet4, jp6) = await world.registration()
    new = uuid.uuid4().hex.upper()
    await world.feed(RegistrationRebound(registration_id=registration_id, old_passport_id=old, new_passport_id=new), key=str(registration_id))
    refused = await world.api.post("/orders", json={"enrolment_ids": [str(cet4)]}, headers=world.headers(old))
    assert refused.status_code == 404
    order = await world.order(new, [cet4, jp6])
    out_trade_no = await world.pay(await world.checkout(new, order["order_id"]))
    await world.wait_delivered(out_trade_no)
    [confirmed] = await world.events("PaymentConfirmed")
    assert confirmed["passport_id"] == new, "the receipt goes to the account the registration is bound to now"

    # A released registration (E9) has nothing left to pay.
    other, other_registration, (a, b) = await world.registration()
    pending = await world.order(other, [a])
    await world.feed(RegistrationReleased(registration_id=other_registration, passport_id=other), key=str(other_registration))
    assert await _order_status(world, uuid.UUID(pending["order_id"])) == "closed"
    gone = await world.api.post("/orders", json={"enrolment_ids": [str(b)]}, headers=world.headers(other))
    assert gone.status_code == 409 and gone.json()["code"] == "enrolment_expired"


async def test_y3_reordered_notifications_apply_each_payment_once(world):
    """Drill (issue 6): notifications out of order. Alipay's TRADE_FINISHED arriving before its
    TRADE_SUCCESS, and the second order's notification before the first's: each payment is
    applied exactly once, whatever the order, and every copy is acknowledged."""
    passport_id, registration_id, (cet4, jp6) = await world.registration()
    first = await world.order(passport_id, [cet4])
    second = await world.order(passport_id, [jp6])
    # Both paid at the gateway with every notification held back; we deliver them ourselves.
    first_trade = await world.pay(await world.checkout(passport_id, first["order_id"], "alipay"), notify=False)
    second_trade = await world.pay(await world.checkout(passport_id, second["order_id"], "alipay"), notify=False)

    def signed(out_trade_no: str, status: str) -> bytes:
        trade = world.sandbox.trades[out_trade_no]
        trade.status = status
        body, _ = world.sandbox.notification_body(trade)
        trade.status = "TRADE_SUCCESS"
        return body

    arrivals = [
        signed(second_trade, "TRADE_FINISHED"),  # the later order, and its final status, first
        signed(first_trade, "TRADE_SUCCESS"),
        signed(second_trade, "TRADE_SUCCESS"),  # the status that should have come first, last
        signed(first_trade, "TRADE_FINISHED"),
    ]
    for body in arrivals:
        answer = await world.api.post("/notify/alipay", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 200 and answer.text == "success"
    assert await world.count(payments) == 2
    confirmed = await world.events("PaymentConfirmed")
    assert sorted(c["order_id"] for c in confirmed) == sorted([first["order_id"], second["order_id"]])
    assert [c["order_id"] for c in confirmed] == [second["order_id"], first["order_id"]], "applied in arrival order"
    assert await _order_status(world, uuid.UUID(first["order_id"])) == await _order_status(world, uuid.UUID(second["order_id"])) == "paid"
