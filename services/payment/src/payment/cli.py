"""payment-admin: operations commands.

payment-admin migrate | revision -m … | dlq …   the common commands (cet_shared.admin)
payment-admin reconcile --date 2026-11-26 [--gateway alipay|payease]
payment-admin make-test-keys --dir .local/var/payment-keys      (sandbox and tests only)
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from cet_shared.admin import ServiceAdmin

ADMIN = ServiceAdmin("payment", settings="payment.settings:PaymentSettings")
migrate = ADMIN.migrate


async def _reconcile(day: date, gateways: list[str]) -> list[dict]:
    from payment.bootstrap import bootstrap
    from payment.service.reconciliation import reconcile

    ctx = bootstrap()
    try:
        reports = []
        for gateway in gateways:
            report = await reconcile(ctx.unit_of_work(), ctx.clock, ctx.gateways, gateway, day)
            reports.append(
                {"run_id": str(report.run_id), "gateway": gateway, "date": day.isoformat(), **report.counts(), "findings": [asdict(f) for f in report.findings]}
            )
        return reports
    finally:
        await ctx.close()


def main(argv: list[str] | None = None) -> int:
    parser, commands = ADMIN.parser()
    rec = commands.add_parser("reconcile", help="reconcile one day against the gateways' statements (Y5)")
    rec.add_argument("--date", required=True, type=date.fromisoformat, help="the statement's date, YYYY-MM-DD (Beijing)")
    rec.add_argument("--gateway", choices=["alipay", "payease"], action="append")
    keys = commands.add_parser("make-test-keys", help="make the app's RSA key pair and a PayEase key for the sandbox")
    keys.add_argument("--dir", required=True)
    args = parser.parse_args(argv)

    if (done := ADMIN.run_common(args)) is not None:
        return done
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
