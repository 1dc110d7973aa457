"""Y5: daily reconciliation against a gateway's statement. Every mismatch is settled or reported:
- paid there, not here → settled through the same path as a notification;
- a transaction id recorded here for another order → settled when the gateway's query confirms
  it, else handed to support; every conflict still open is tried again on each run;
- here, not there → reported;
- amounts differ (or a trade we never created) → reported, nothing changes.
Each run is stored with its findings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from cet_shared.clock import SHANGHAI, Clock, to_shanghai
from payment.domain.model import Finding
from payment.domain.money import InvalidAmount, yuan_to_fen
from payment.gateways.base import GatewayError, StatementLine
from payment.service.conflicts import settle_conflict, settle_open_conflicts
from payment.service.ports import Gateways, PaymentUnitOfWork, UnitOfWorkFactory
from payment.service.settlement import CONFLICT, DUPLICATE, apply_payment
from payment.settings import PaymentSettings

SETTLED = "settled"
MISSING_THERE = "missing_there"
AMOUNT_MISMATCH = "amount_mismatch"
UNKNOWN_ORDER = "unknown_order"
CONFLICT_SETTLED = "conflict_settled"
CONFLICT_OPEN = "conflict_open"


@dataclass
class RunReport:
    run_id: uuid.UUID
    gateway: str
    bill_date: date
    lines: int = 0
    matched: int = 0
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        summary = {"lines": self.lines, "matched": self.matched}
        for finding in self.findings:
            summary[finding.kind] = summary.get(finding.kind, 0) + 1
        return summary


def beijing_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


async def reconcile(uow: PaymentUnitOfWork, clock: Clock, gateways: Gateways, gateway: str, day: date) -> RunReport:
    run_id = uuid.uuid4()
    async with uow:
        await uow.reconciliation.start(run_id, gateway, day, clock.now())
        await uow.commit()
    report = RunReport(run_id, gateway, day)
    try:
        lines = [line for line in await gateways[gateway].statement(day) if line.kind == "trade"]
    except GatewayError as exc:
        await _finish(uow, clock, report, status="failed", error=str(exc))
        raise
    report.lines = len(lines)
    seen: set[tuple[str, str]] = set()
    for line in lines:
        seen.add((line.out_trade_no, line.transaction_id))
        await _check_line(uow, clock, gateways, report, line)
    await _check_ours(uow, report, day, seen)
    for outcome in await settle_open_conflicts(uow, clock, gateways, gateway):  # those raised since the last run, or left with support
        report.findings.append(
            Finding(
                CONFLICT_SETTLED if outcome.settled else CONFLICT_OPEN,
                outcome.out_trade_no,
                outcome.transaction_id,
                detail=f"open conflict {outcome.conflict_id}: {outcome.outcome}",
            )
        )
    await _finish(uow, clock, report, status="completed")
    return report


async def _check_line(uow: PaymentUnitOfWork, clock: Clock, gateways: Gateways, report: RunReport, line: StatementLine) -> None:
    ids = (line.out_trade_no, line.transaction_id)
    try:
        amount = yuan_to_fen(line.amount_yuan)
    except InvalidAmount:
        report.findings.append(Finding(AMOUNT_MISMATCH, *ids, detail=f"unreadable amount {line.amount_yuan!r}"))
        return
    async with uow:
        ours = await uow.payments.amount_for(report.gateway, line.transaction_id, line.out_trade_no)
    if ours is not None:
        if ours == amount:
            report.matched += 1
        else:
            report.findings.append(Finding(AMOUNT_MISMATCH, *ids, gateway_amount_fen=amount, our_amount_fen=ours, detail="recorded payment differs"))
        return
    async with uow:
        result = await apply_payment(
            uow,
            gateway=report.gateway,
            out_trade_no=line.out_trade_no,
            transaction_id=line.transaction_id,
            amount_fen=amount,
            paid_at=line.paid_at or clock.now(),
            source="reconciliation",
            now=clock.now(),
        )
        if result.outcome == AMOUNT_MISMATCH:
            order = await uow.orders.get(result.order_id) if result.order_id else None
            report.findings.append(
                Finding(
                    AMOUNT_MISMATCH,
                    *ids,
                    gateway_amount_fen=amount,
                    our_amount_fen=order.amount_fen if order else None,
                    detail="order amount differs; not settled",
                )
            )
        elif result.outcome == UNKNOWN_ORDER:
            report.findings.append(Finding(UNKNOWN_ORDER, *ids, gateway_amount_fen=amount, detail="no such order here"))
        elif result.outcome == DUPLICATE:
            report.matched += 1
        elif result.outcome != CONFLICT:
            report.findings.append(Finding(SETTLED, *ids, gateway_amount_fen=amount, our_amount_fen=amount, detail=f"paid there, not here: {result.outcome}"))
        await uow.commit()
    if result.outcome == CONFLICT:
        assert result.conflict_id is not None
        settled = await settle_conflict(uow, clock, gateways, result.conflict_id)
        report.findings.append(
            Finding(
                CONFLICT_SETTLED if settled.settled else CONFLICT_OPEN,
                *ids,
                gateway_amount_fen=amount,
                detail=f"transaction id recorded for another order (conflict {result.conflict_id}): {settled.outcome}",
            )
        )


async def _check_ours(uow: PaymentUnitOfWork, report: RunReport, day: date, seen: set[tuple[str, str]]) -> None:
    start, end = beijing_day_bounds(day)
    async with uow:
        ours = await uow.payments.paid_between(report.gateway, start, end)
    for out_trade_no, transaction_id, amount in ours:
        if (out_trade_no, transaction_id) not in seen:
            report.findings.append(
                Finding(MISSING_THERE, out_trade_no, transaction_id, our_amount_fen=amount, detail="recorded here, absent from the gateway statement")
            )


async def _finish(uow: PaymentUnitOfWork, clock: Clock, report: RunReport, *, status: str, error: str | None = None) -> None:
    summary: dict[str, object] = {**report.counts(), **({"error": error[:500]} if error else {})}
    async with uow:
        await uow.payments.add_findings(report.findings, run_id=report.run_id)
        await uow.reconciliation.finish(report.run_id, status=status, at=clock.now(), summary=summary)
        await uow.audit.record(
            "reconciliation.finished",
            ("reconciliation_run", report.run_id),
            after={"gateway": report.gateway, "bill_date": report.bill_date, "status": status, "summary": summary},
        )
        await uow.commit()


async def reconcile_yesterday_if_due(unit_of_work: UnitOfWorkFactory, clock: Clock, settings: PaymentSettings, gateways: Gateways) -> int:
    """The worker's daily job: reconcile yesterday (Beijing date) for each gateway not yet done.
    A transaction-level lock per (gateway, day), held while the run's own transactions go by,
    keeps concurrent workers from both running it."""
    now = to_shanghai(clock.now())
    if now.hour < settings.reconcile_from_hour:
        return 0
    day = now.date() - timedelta(days=1)
    runs = 0
    for gateway in gateways:
        async with unit_of_work() as guard:
            if not await guard.reconciliation.lock(f"reconcile:{gateway}:{day}"):
                continue
            if await guard.reconciliation.completed(gateway, day):
                continue
            try:
                await reconcile(unit_of_work(), clock, gateways, gateway, day)
            except GatewayError:
                continue
            runs += 1
    return runs
