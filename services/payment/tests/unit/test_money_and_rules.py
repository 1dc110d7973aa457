"""Pure rules: amounts, the Y2 confirmation text, Y1 payability."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from payment.domain.money import InvalidAmount, fen_to_yuan, yuan_to_fen
from payment.domain.orders import (
    NotPayable,
    PayableEnrolment,
    check_payable,
    confirmation_text,
    new_out_trade_no,
    order_amount,
)

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_fen_and_yuan_convert_exactly_both_ways():
    assert fen_to_yuan(2) == "0.02" and fen_to_yuan(2500) == "25.00" and fen_to_yuan(0) == "0.00"
    assert yuan_to_fen("0.02") == 2 and yuan_to_fen("25") == 2500 and yuan_to_fen("0.1") == 10 and yuan_to_fen("35.00") == 3500
    # 0.29 * 100 is 28.999999999999996 in floats: Decimal keeps it exact.
    assert yuan_to_fen("0.29") == 29 and fen_to_yuan(29) == "0.29"


@pytest.mark.parametrize("bad", ["0.015", "-0.01", "1e2", "", " ", "0,02", "NaN", "1.2.3", "+1", "０.０１", "٠.٠٢"])
def test_anything_but_an_exact_yuan_amount_is_refused(bad):
    with pytest.raises(InvalidAmount):
        yuan_to_fen(bad)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_fen_must_be_a_non_negative_integer(bad):
    with pytest.raises(InvalidAmount):
        fen_to_yuan(bad)


def test_y2_confirmation_text_as_the_guide_shows_it():
    assert confirmation_text("payease", 2, "boc") == "您选择首信易支付 中国银行进行支付, 支付金额为0.02元人民币"
    assert confirmation_text("alipay", 3) == "您选择支付宝进行支付, 支付金额为0.03元人民币"


def enrolment(owner="A" * 32, status="unpaid", fee=1, expires=timedelta(hours=1), registration=None):
    return PayableEnrolment(uuid.uuid4(), registration or uuid.UUID(int=1), owner, status, fee, NOW + expires)


def test_y1_only_own_unpaid_unexpired_subjects_of_one_registration_are_payable():
    good = [enrolment(), enrolment(fee=50)]
    check_payable(good, requested=[e.enrolment_id for e in good], passport_id="A" * 32, now=NOW)
    assert order_amount(good) == 51
    cases = {
        "enrolment_not_found": [enrolment(owner="B" * 32)],
        "enrolment_already_paid": [enrolment(status="paid")],
        "enrolment_expired": [enrolment(expires=timedelta(0))],
        "fee_not_set": [enrolment(fee=0)],
        "enrolments_mixed": [enrolment(), enrolment(registration=uuid.UUID(int=2))],
    }
    for code, rows in cases.items():
        with pytest.raises(NotPayable) as refused:
            check_payable(rows, requested=[e.enrolment_id for e in rows], passport_id="A" * 32, now=NOW)
        assert refused.value.code == code
    with pytest.raises(NotPayable):
        check_payable(good, requested=[uuid.uuid4()], passport_id="A" * 32, now=NOW)


def test_gateway_order_numbers_follow_each_gateways_format():
    payease = new_out_trade_no("payease", now=NOW, merchant_id="8888")
    day, mid, serial = payease.split("-")
    assert day == "20261127" and mid == "8888" and len(serial) == 16
    alipay = new_out_trade_no("alipay", now=NOW, merchant_id="")
    assert alipay.startswith("CET20261127") and alipay.isalnum() and len(alipay) <= 64
