"""Events passport reacts to: a confirmed payment sends the candidate a receipt (Y6)."""

from __future__ import annotations

from sqlalchemy import select

from cet_shared.clock import to_shanghai
from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import PaymentConfirmed
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer
from passport.bootstrap import Passport
from passport.db.tables import accounts
from passport.domain.receipts import GATEWAY_NAMES, yuan
from passport.mail import queue_mail


def build_consumers(ctx: Passport) -> list[EventConsumer]:
    consumer = EventConsumer("passport", ctx.unit_of_work, max_attempts=ctx.settings.consumer_max_attempts)

    @consumer.handles(PaymentConfirmed)
    async def send_receipt(uow: UnitOfWork, event: PaymentConfirmed, envelope: EventEnvelope) -> None:
        email = await uow.session.scalar(select(accounts.c.email).where(accounts.c.passport_id == event.passport_id))
        if email is None:
            return  # not an account of ours (should not happen); nothing to mail
        paid_at = to_shanghai(event.paid_at).strftime("%Y-%m-%d %H:%M")
        lines = "".join(f"  ({s.subject_code}){s.subject_name}  {yuan(s.fee_fen)}元\n" for s in event.subjects)
        await queue_mail(
            uow.session,
            to=email,
            subject="CET报名网 缴费成功通知",
            body=(
                "您好！\n\n您的CET报名费已支付成功。\n"
                f"订单号：{event.order_id}\n支付方式：{GATEWAY_NAMES.get(event.gateway, event.gateway)}\n"
                f"交易号：{event.gateway_transaction_id}\n金额：{yuan(event.amount_fen)}元\n支付时间：{paid_at}（北京时间）\n"
                f"科目数：{len(event.enrolment_ids)}\n{lines}\n"
                "报名信息页面中的“已支付”状态即为报名成功的凭证，请登录报名网站查看。\n"
            ),
        )

    return [consumer]
