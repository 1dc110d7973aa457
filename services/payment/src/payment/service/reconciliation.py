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

from sqlalchemy import and_, func, insert, select, text, update

from cet_shared import audit
from cet_shared.clock import SHANGHAI, to_shanghai
from payment.bootstrap import Payment
from payment.db.tables import attempts, orders, payments, reconciliation_findings, reconciliation_runs
from payment.domain.money import InvalidAmount, yuan_to_fen
from payment.gateways.base import GatewayError, StatementLine
from payment.service.conflicts import settle_conflict, settle_open_conflicts
from payment.service.settlement import CONFLICT, DUPLICATE, apply_payment

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
    findings: list[dict] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        summary = {"lines": self.lines, "matched": self.matched}
        for finding in self.findings:
            summary[finding["kind"]] = summary.get(finding["kind"], 0) + 1
        return summary


def beijing_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


async def reconcile(ctx: Payment, gateway: str, day: date) -> RunReport:
    run_id = uuid.uuid4()
    async with ctx.unit_of_work() as uow:
        await uow.session.execute(
            insert(reconciliation_runs).values(run_id=run_id, gateway=gateway, bill_date=day, started_at=ctx.clock.now(), status="running")
        )
        await uow.commit()
    report = RunReport(run_id, gateway, day)
    try:
        lines = [line for line in await ctx.gateway(gateway).statement(day) if line.kind == "trade"]
    except GatewayError as exc:
        await _finish(ctx, report, status="failed", error=str(exc))
        raise
    report.lines = len(lines)
    seen: set[tuple[str, str]] = set()
    for line in lines:
        seen.add((line.out_trade_no, line.transaction_id))
        await _check_line(ctx, report, gateway, line)
    await _check_ours(ctx, report, gateway, day, seen)
    for outcome in await settle_open_conflicts(ctx, gateway):  # those raised since the last run, or left with support
        _finding(report, CONFLICT_SETTLED if outcome.settled else CONFLICT_OPEN, out_trade_no=outcome.out_trade_no,
                 transaction_id=outcome.transaction_id, detail=f"open conflict {outcome.conflict_id}: {outcome.outcome}")
    await _finish(ctx, report, status="completed")
    return report


def _finding(
    report: RunReport, kind: str, *, out_trade_no: str, transaction_id: str,
    gateway_amount: int | None = None, our_amount: int | None = None, detail: str = "",
) -> None:
    report.findings.append(
        {
            "kind": kind,
            "out_trade_no": out_trade_no,
            "transaction_id": transaction_id,
            "gateway_amount_fen": gateway_amount,
            "our_amount_fen": our_amount,
            "detail": detail,
        }
    )


async def _check_line(ctx: Payment, report: RunReport, gateway: str, line: StatementLine) -> None:
    ids = {"out_trade_no": line.out_trade_no, "transaction_id": line.transaction_id}
    try:
        amount = yuan_to_fen(line.amount_yuan)
    except InvalidAmount:
        _finding(report, AMOUNT_MISMATCH, **ids, detail=f"unreadable amount {line.amount_yuan!r}")
        return
    async with ctx.sessions() as session:
        ours = (
            await session.execute(
                select(payments.c.amount_fen)
                .join(attempts, attempts.c.attempt_id == payments.c.attempt_id)
                .where(payments.c.gateway == gateway, payments.c.transaction_id == line.transaction_id, attempts.c.out_trade_no == line.out_trade_no)
            )
        ).first()
    if ours is not None:
        if ours.amount_fen == amount:
            report.matched += 1
        else:
            _finding(report, AMOUNT_MISMATCH, **ids, our_amount=ours.amount_fen, gateway_amount=amount, detail="recorded payment differs")
        return
    async with ctx.unit_of_work() as uow:
        result = await apply_payment(
            uow, gateway=gateway, out_trade_no=line.out_trade_no, transaction_id=line.transaction_id, amount_fen=amount,
            paid_at=line.paid_at or ctx.clock.now(), source="reconciliation", now=ctx.clock.now(),
        )
        if result.outcome == AMOUNT_MISMATCH:
            our_amount = await uow.session.scalar(select(orders.c.amount_fen).where(orders.c.order_id == result.order_id))
            _finding(report, AMOUNT_MISMATCH, **ids, our_amount=our_amount, gateway_amount=amount, detail="order amount differs; not settled")
        elif result.outcome == UNKNOWN_ORDER:
            _finding(report, UNKNOWN_ORDER, **ids, gateway_amount=amount, detail="no such order here")
        elif result.outcome == DUPLICATE:
            report.matched += 1
        elif result.outcome != CONFLICT:
            _finding(report, SETTLED, **ids, gateway_amount=amount, our_amount=amount, detail=f"paid there, not here: {result.outcome}")
        await uow.commit()
    if result.outcome == CONFLICT:
        await _settle(ctx, report, result.conflict_id, ids, amount)


async def _settle(ctx: Payment, report: RunReport, conflict_id: int, ids: dict, amount: int | None) -> None:
    settled = await settle_conflict(ctx, conflict_id)
    kind = CONFLICT_SETTLED if settled.settled else CONFLICT_OPEN
    _finding(report, kind, **ids, gateway_amount=amount, detail=f"transaction id recorded for another order (conflict {conflict_id}): {settled.outcome}")


async def _check_ours(ctx: Payment, report: RunReport, gateway: str, day: date, seen: set[tuple[str, str]]) -> None:
    start, end = beijing_day_bounds(day)
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(payments.c.transaction_id, payments.c.amount_fen, attempts.c.out_trade_no)
                .join(attempts, attempts.c.attempt_id == payments.c.attempt_id)
                .where(and_(payments.c.gateway == gateway, payments.c.paid_at >= start, payments.c.paid_at < end))
            )
        ).all()
    for row in rows:
        if (row.out_trade_no, row.transaction_id) not in seen:
            _finding(
                report, MISSING_THERE, out_trade_no=row.out_trade_no, transaction_id=row.transaction_id, our_amount=row.amount_fen,
                detail="recorded here, absent from the gateway statement",
            )


async def _finish(ctx: Payment, report: RunReport, *, status: str, error: str | None = None) -> None:
    summary = report.counts() | ({"error": error[:500]} if error else {})
    async with ctx.unit_of_work() as uow:
        if report.findings:
            await uow.session.execute(insert(reconciliation_findings), [{"run_id": report.run_id, **f} for f in report.findings])
        await uow.session.execute(
            update(reconciliation_runs)
            .where(reconciliation_runs.c.run_id == report.run_id)
            .values(status=status, finished_at=ctx.clock.now(), summary=summary)
        )
        await audit.record(uow.session, "reconciliation.finished", ("reconciliation_run", report.run_id), after={"gateway": report.gateway, "bill_date": report.bill_date, "status": status, "summary": summary})
        await uow.commit()


async def reconcile_yesterday_if_due(ctx: Payment) -> int:
    """The worker's daily job: reconcile yesterday (Beijing date) for each gateway not yet done.
    A transaction-level advisory lock per (gateway, day) keeps concurrent workers from both running it."""
    now = to_shanghai(ctx.clock.now())
    if now.hour < ctx.settings.reconcile_from_hour:
        return 0
    day = now.date() - timedelta(days=1)
    runs = 0
    for gateway in ctx.gateways:
        async with ctx.sessions() as session, session.begin():
            got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": f"reconcile:{gateway}:{day}"})
            if not got:
                continue
            done = await session.scalar(
                select(func.count()).select_from(reconciliation_runs).where(
                    reconciliation_runs.c.gateway == gateway, reconciliation_runs.c.bill_date == day, reconciliation_runs.c.status == "completed"
                )
            )
            if done:
                continue
            try:
                await reconcile(ctx, gateway, day)
            except GatewayError:
                continue
            runs += 1
    return runs
