"""Y1/Y2 on the fake unit of work: what may be ordered, one open order per subject, checkout."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from cet_shared.auth import Principal
from cet_shared.problems import Problem
from payment.service.orders import checkout, create_order, get_order, preview_order


def candidate(passport_id: str | None = None) -> Principal:
    return Principal(passport_id=passport_id or uuid.uuid4().hex.upper(), roles=frozenset({"candidate"}))


async def refused(call) -> Problem:
    with pytest.raises(Problem) as caught:
        await call
    return caught.value


async def test_y1_an_order_of_ones_own_subjects_amounts_to_their_fees_and_is_made_once(uow, clock, settings, enrol):
    me = candidate()
    written, oral = enrol(me.passport_id, 3000, 2000)
    preview = await preview_order(uow, clock, settings, me, [written.enrolment_id, oral.enrolment_id])
    assert preview.order_id is None and preview.amount_fen == 5000 and uow.committed.orders == {}
    order = await create_order(uow, clock, settings, me, [oral.enrolment_id, written.enrolment_id])
    assert order.created and order.amount_fen == 5000 and [line.subject_code for line in order.lines] == ["1", "F"]
    again = await create_order(uow, clock, settings, me, [written.enrolment_id, oral.enrolment_id])
    assert again.order_id == order.order_id and not again.created and len(uow.committed.orders) == 1
    part = await refused(create_order(uow, clock, settings, me, [written.enrolment_id]))
    assert part.code == "enrolment_in_open_order" and len(uow.committed.orders) == 1
    shown = await get_order(uow, me, order.order_id)
    assert shown.status == "open" and [line.status for line in shown.lines] == ["unpaid", "unpaid"]


async def test_y1_others_expired_unknown_or_mixed_subjects_are_refused_and_nothing_stored(uow, clock, settings, enrol):
    me, other = candidate(), candidate()
    (mine,) = enrol(me.passport_id, 3000)
    (theirs,) = enrol(other.passport_id, 3000)
    (soon,) = enrol(me.passport_id, 3000, expires_in=timedelta(minutes=5))
    (free,) = enrol(me.passport_id, 0)
    stranger = await refused(create_order(uow, clock, settings, me, [theirs.enrolment_id]))
    # Issue 14.3: an unknown subject of a candidate this projection knows may still be on its way;
    # of an account it does not know, it does not exist.
    syncing = await refused(create_order(uow, clock, settings, me, [uuid.uuid4()]))
    unknown = await refused(create_order(uow, clock, settings, candidate(), [uuid.uuid4()]))
    mixed = await refused(create_order(uow, clock, settings, me, [mine.enrolment_id, soon.enrolment_id]))
    unset = await refused(create_order(uow, clock, settings, me, [free.enrolment_id]))
    clock.advance(timedelta(minutes=5))
    expired = await refused(create_order(uow, clock, settings, me, [soon.enrolment_id]))
    assert [(p.status, p.code) for p in (stranger, syncing, unknown, mixed, unset, expired)] == [
        (404, "enrolment_not_found"),
        (409, "enrolment_not_yet_known"),
        (404, "enrolment_not_found"),
        (409, "enrolments_mixed"),
        (409, "fee_not_set"),
        (409, "enrolment_expired"),
    ]
    assert uow.committed.orders == {}


async def test_y1_a_stranger_does_not_see_an_order(uow, clock, settings, enrol):
    me = candidate()
    (subject,) = enrol(me.passport_id, 3000)
    order = await create_order(uow, clock, settings, me, [subject.enrolment_id])
    assert (await refused(get_order(uow, candidate(), order.order_id))).code == "order_not_found"
    support = Principal(passport_id="S" * 32, roles=frozenset({"support"}))
    assert (await get_order(uow, support, order.order_id)).order_id == order.order_id


async def test_y2_checkout_keeps_one_attempt_per_gateway_and_refuses_a_closed_order(uow, clock, settings, gateways, enrol):
    me = candidate()
    (subject,) = enrol(me.passport_id, 3000, expires_in=timedelta(hours=1))
    order = await create_order(uow, clock, settings, me, [subject.enrolment_id])
    no_bank = await refused(checkout(uow, clock, settings, gateways, me, order.order_id, "payease", None))
    assert no_bank.code == "bank_required" and uow.committed.attempts == {}
    first = await checkout(uow, clock, settings, gateways, me, order.order_id, "payease", "boc")
    assert first.confirmation == "您选择首信易支付 中国银行进行支付, 支付金额为30.00元人民币"
    again = await checkout(uow, clock, settings, gateways, me, order.order_id, "payease", "icbc")
    assert again.redirect.fields["out_trade_no"] == first.redirect.fields["out_trade_no"]
    (attempt,) = uow.committed.attempts.values()
    assert attempt.bank == "icbc" and attempt.out_trade_no.split("-")[1] == settings.payease_merchant_id
    clock.advance(timedelta(hours=1))
    closed = await refused(checkout(uow, clock, settings, gateways, me, order.order_id, "alipay", None))
    assert closed.code == "order_closed" and len(uow.committed.attempts) == 1
