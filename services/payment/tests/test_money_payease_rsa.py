"""Issue 14.4 — PayEase's RSA v_sign (Y3): verified against PayEase's configured public key; a
notification with a valid MAC but a forged, truncated, missing or foreign v_sign is refused with
PayEase's retry answer (`error`) and changes nothing. The sandbox signs with its own test pair."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from sqlalchemy import select

from payment.db.tables import notifications, orders, payments
from payment.gateways.signing import generate_rsa_key, hmac_md5, payease_rsa_sign, payease_sign_content

FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_y3_payease_v_sign_forged_truncated_missing_or_foreign_is_refused_with_error(world):
    passport_id, _, enrolment_ids = await world.registration(fees=(1, 1))
    order = await world.order(passport_id, enrolment_ids[:2])
    out_trade_no = await world.pay(await world.checkout(passport_id, order["order_id"], "payease", "boc"), notify=False)
    genuine = world.sandbox.payease_notification(world.sandbox.trades[out_trade_no])
    assert len(genuine["v_sign"]) == 512, "RSA-2048 signature, hex"

    forged = genuine | {"v_sign": "0" * 512}
    truncated = genuine | {"v_sign": genuine["v_sign"][:-2]}
    missing = {k: v for k, v in genuine.items() if k != "v_sign"}
    foreign = genuine | {"v_sign": payease_rsa_sign(generate_rsa_key(), payease_sign_content(genuine))}
    not_hex = genuine | {"v_sign": "Z" * 512}
    # The merchant's MAC key alone (e.g. leaked from the merchant side) forges a new amount: v_mac and
    # v_md5money are right, only PayEase's RSA key could sign it.
    key = world.sandbox.payease_key
    rewritten = genuine | {"v_amount": "0.01"}
    rewritten["v_md5money"] = hmac_md5(key, rewritten["v_amount"] + rewritten["v_moneytype"])
    for label, fields in (
        ("forged", forged),
        ("truncated", truncated),
        ("missing", missing),
        ("foreign", foreign),
        ("not hex", not_hex),
        ("rewritten", rewritten),
    ):
        answer = await world.api.post("/notify/payease", content=urlencode(fields, encoding="gbk"), headers=FORM)
        assert (answer.status_code, answer.text) == (200, "error"), label
    assert await world.count(payments) == 0
    assert await world.scalar(select(orders.c.status).where(orders.c.order_id == uuid.UUID(order["order_id"]))) == "open"
    async with world.ctx.sessions() as session:
        rows = (await session.execute(select(notifications.c.verified, notifications.c.detail))).all()
    assert len(rows) == 6 and all(not r.verified for r in rows)
    assert sum(1 for r in rows if r.detail == "bad v_sign (RSA)") == 5, rows  # missing: a missing field

    answer = await world.api.post("/notify/payease", content=urlencode(genuine, encoding="gbk"), headers=FORM)
    assert answer.text == "sent" and await world.count(payments) == 1
