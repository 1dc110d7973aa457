"""Pure rules of issue 14: what an order's money reads as (Y4), and PayEase's v_sign (Y3)."""

from __future__ import annotations

import uuid

from payment.domain.money_states import RefundView, combined, line_state, order_state
from payment.gateways.signing import (
    generate_rsa_key,
    payease_rsa_sign,
    payease_rsa_verify,
    payease_sign_content,
)

A, B = uuid.uuid4(), uuid.uuid4()


def test_y4_an_order_whose_money_all_goes_back_reads_the_refund_not_paid():
    late = [RefundView("pending", 2, "late_payment_no_seat", (A, B))]
    assert order_state("paid", 2, late) == "refund_pending"
    assert order_state("paid", 2, [RefundView("completed", 2, "late_payment_no_seat", (A, B))]) == "refunded"
    assert (
        order_state("paid", 2, [RefundView("failed", 1, "late_payment_no_seat", (A,)), RefundView("completed", 1, "late_payment_no_seat", (B,))])
        == "refund_failed"
    )
    part = [RefundView("completed", 1, "late_payment_no_seat", (B,))]
    assert (order_state("paid", 2, part), line_state("paid", A, part), line_state("paid", B, part)) == ("paid", "paid", "refunded")
    surplus = [RefundView("completed", 2, "duplicate_payment", (A, B))]
    assert (order_state("paid", 2, surplus), line_state("paid", A, surplus)) == ("paid", "paid"), "the second payment went back, the first bought the seats"
    assert order_state("open", 2, []) == "open" and line_state("open", A, []) == "unpaid"
    assert combined([]) is None and combined(["refunded", "refund_pending"]) == "refund_pending"


def test_y3_payease_v_sign_only_its_key_over_its_fields_verifies():
    key = generate_rsa_key()
    fields = {"v_oid": "20261202-8888-AB", "v_pstatus": "1", "v_amount": "0.02", "v_moneytype": "0"}
    signature = payease_rsa_sign(key, payease_sign_content(fields))
    public = key.public_key()
    assert payease_rsa_verify(public, payease_sign_content(fields), signature)
    assert not payease_rsa_verify(public, payease_sign_content(fields | {"v_amount": "0.01"}), signature)
    assert not payease_rsa_verify(generate_rsa_key().public_key(), payease_sign_content(fields), signature)
    for bad in (signature[:-2], signature[:-1] + "x", "", "支" * 512, signature.upper() + "00"):
        assert not payease_rsa_verify(public, payease_sign_content(fields), bad)
    assert payease_rsa_verify(public, payease_sign_content(fields), signature.upper()), "hex is case-insensitive"
