"""payment-admin: operations commands.

    payment-admin migrate
    payment-admin dlq list | show ID | replay [ID…] | discard ID --reason …   dead letters (audited)
    payment-admin reconcile --date 2026-11-26 [--gateway alipay|payease]
    payment-admin make-test-keys --dir .local/var/payment-keys      (sandbox and tests only)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from cet_shared import dlq_admin
from cet_shared.db.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "db" / "migrations"


def migrate(database_url: str | None = None) -> None:
    from payment.settings import PaymentSettings

    upgrade(database_url or PaymentSettings().database_url, MIGRATIONS)


async def _reconcile(day: date, gateways: list[str]) -> list[dict]:
    from payment.bootstrap import bootstrap
    from payment.service.reconciliation import reconcile

    ctx = bootstrap()
    try:
        reports = []
        for gateway in gateways:
            report = await reconcile(ctx.unit_of_work(), ctx.clock, ctx.gateways, gateway, day)
            reports.append({"run_id": str(report.run_id), "gateway": gateway, "date": day.isoformat(), **report.counts(), "findings": [asdict(f) for f in report.findings]})
        return reports
    finally:
        await ctx.close()


def _dlq(args: argparse.Namespace) -> int:
    from payment.bootstrap import bootstrap
    from payment.events.consumers import build_consumers

    return dlq_admin.run(args, bootstrap, build_consumers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="payment-admin")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    rec = commands.add_parser("reconcile", help="reconcile one day against the gateways' statements (Y5)")
    rec.add_argument("--date", required=True, type=date.fromisoformat, help="the statement's date, YYYY-MM-DD (Beijing)")
    rec.add_argument("--gateway", choices=["alipay", "payease"], action="append")
    keys = commands.add_parser("make-test-keys", help="make the app's RSA key pair and a PayEase key for the sandbox")
    keys.add_argument("--dir", required=True)
    dlq_admin.add_commands(commands)
    args = parser.parse_args(argv)

    if args.command == "dlq":
        return _dlq(args)
    if args.command == "migrate":
        migrate()
        print("payment: migrations applied")
        return 0
    if args.command == "make-test-keys":
        from payment.sandbox.keys import ensure_merchant_keys

        for path in ensure_merchant_keys(Path(args.dir)):
            print(path)
        return 0
    from payment.gateways.base import GatewayError

    try:
        reports = asyncio.run(_reconcile(args.date, args.gateway or ["alipay", "payease"]))
    except GatewayError as exc:
        print(f"error: gateway unavailable: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(reports, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
