"""Y3: a gateway's asynchronous notification — verified, recorded as received, applied once.

The raw notification is recorded in its own transaction first, so even one we cannot apply is
kept for review. The answer tells the gateway whether to stop: what is verified and recorded stops
it (applied, duplicate, amount mismatch, unknown order: retrying would not change the result); a
notification we could not verify, one signed for another merchant, one whose transaction id
conflicts with another order's and that the gateway's query could not yet confirm, or one we could
not record, makes it try again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cet_shared.clock import Clock
from cet_shared.ratelimit import RateLimit
from payment.domain.model import ReceivedNotification
from payment.domain.money import InvalidAmount, yuan_to_fen
from payment.gateways.base import NotifiedPayment
from payment.service.conflicts import settle_conflict
from payment.service.ports import Gateways, PaymentUnitOfWork
from payment.service.settlement import AMOUNT_MISMATCH, CONFLICT, apply_payment
from payment.settings import PaymentSettings

log = logging.getLogger(__name__)
WRONG_MERCHANT = "wrong_merchant"
CONFLICT_SETTLED = "conflict_settled"
CONFLICT_OPEN = "conflict_support"
RETRY_OUTCOMES = {WRONG_MERCHANT, CONFLICT_OPEN}


@dataclass(frozen=True)
class NotificationResult:
    outcomes: list[str]
    answer: str


def rejected_limit(settings: PaymentSettings) -> RateLimit:
    """Issue 13: rejected notifications stored per sending address and window."""
    return RateLimit("notify-rejected", settings.notify_rejected_per_source, settings.notify_rejected_window)


async def rejected_too_often(uow: PaymentUnitOfWork, clock: Clock, settings: PaymentSettings, source: str) -> bool:
    limit = rejected_limit(settings)
    async with uow:
        return await uow.throttles.count(limit, source, clock=clock) >= limit.limit


async def count_rejected(uow: PaymentUnitOfWork, clock: Clock, settings: PaymentSettings, source: str) -> None:
    async with uow:
        await uow.throttles.record(rejected_limit(settings), source, clock=clock)
        await uow.commit()


async def receive(
    uow: PaymentUnitOfWork, clock: Clock, settings: PaymentSettings, gateways: Gateways, gateway: str, body: bytes, content_type: str | None
) -> NotificationResult:
    adapter = gateways[gateway]
    now = clock.now()
    check = adapter.verify_notification(body)
    first = check.payments[0] if check.payments else None
    async with uow:
        notification_id = await uow.payments.record_notification(
            ReceivedNotification(
                gateway=gateway,
                received_at=now,
                body=body if check.verified else body[: settings.notify_rejected_body_bytes],  # forged: no 64 KB rows
                content_type=(content_type or "")[:200],
                verified=check.verified,
                outcome="received" if check.verified else "rejected",
                detail=check.reason,
                out_trade_no=first.out_trade_no[:100] if first else None,
                transaction_id=first.transaction_id[:100] if first else None,
            )
        )
        await uow.commit()
    if not check.verified:
        log.warning("%s notification %s rejected: %s", gateway, notification_id, check.reason)
        return NotificationResult(["rejected"], adapter.answer(stop_retrying=False))

    outcomes = []
    for payment in check.payments:
        outcomes.append(await _apply_one(uow, clock, gateways, gateway, payment))
    async with uow:
        await uow.payments.set_notification_outcome(notification_id, ",".join(outcomes))
        await uow.commit()
    # Signed for another merchant: most likely our own configuration is wrong, and the gateway's
    # retries will get through once it is fixed. An unsettled conflict: each retry is another
    # chance to settle it. Everything else would only repeat itself.
    return NotificationResult(outcomes, adapter.answer(stop_retrying=not RETRY_OUTCOMES.intersection(outcomes)))


async def _apply_one(uow: PaymentUnitOfWork, clock: Clock, gateways: Gateways, gateway: str, payment: NotifiedPayment) -> str:
    if not payment.merchant_ok:
        return WRONG_MERCHANT
    if not payment.currency_ok:
        return "wrong_currency"
    if not payment.succeeded:
        return f"status_{payment.status or 'missing'}"[:40]
    try:
        amount_fen = yuan_to_fen(payment.amount_yuan)
    except InvalidAmount:
        return AMOUNT_MISMATCH
    if not payment.transaction_id:
        return "missing_transaction_id"
    async with uow:
        result = await apply_payment(
            uow,
            gateway=gateway,
            out_trade_no=payment.out_trade_no,
            transaction_id=payment.transaction_id,
            amount_fen=amount_fen,
            paid_at=payment.paid_at or clock.now(),
            source="notification",
            now=clock.now(),
        )
        await uow.commit()
    if result.outcome == CONFLICT:
        assert result.conflict_id is not None
        settled = await settle_conflict(uow, clock, gateways, result.conflict_id)
        return CONFLICT_SETTLED if settled.settled else CONFLICT_OPEN
    if result.outcome != "applied":
        log.warning("%s notification for %s not applied: %s", gateway, payment.out_trade_no, result.outcome)
    return result.outcome
