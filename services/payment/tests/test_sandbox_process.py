"""The sandbox as its own process (`payment-sandbox`, uvicorn), keys exchanged through files,
and the operator's `payment-admin reconcile --date` against it (Y5)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import uuid
from contextlib import asynccontextmanager, redirect_stdout
from io import StringIO

import httpx
from sqlalchemy import select

from cet_shared.clock import to_shanghai
from payment.cli import main as payment_admin
from payment.db.tables import orders
from payment.sandbox.keys import ALIPAY_PUBLIC, APP_PRIVATE, PAYEASE_KEY, ensure_merchant_keys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def sandbox_process(key_dir, port: int):
    env = {"SANDBOX_KEY_DIR": str(key_dir), "SANDBOX_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SANDBOX_TIME_SCALE": "0.001", "PATH": "/usr/bin:/bin"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from payment.entrypoints import run_sandbox; run_sandbox()",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(300):  # up to 30 s: a loaded CI machine starts uvicorn slowly
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.returncode is not None:
                    raise AssertionError(f"payment-sandbox exited: {(await process.stderr.read()).decode()[-2000:]}")
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("payment-sandbox did not start")
            yield client
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)


async def test_y5_payment_admin_reconcile_settles_against_the_sandbox_process(world, tmp_path, monkeypatch):
    key_dir = tmp_path / "keys"
    ensure_merchant_keys(key_dir)
    port = free_port()
    async with sandbox_process(key_dir, port) as sandbox:
        assert (key_dir / ALIPAY_PUBLIC).exists(), "the sandbox published its public key"
        for name, value in {
            "DATABASE_URL_PAYMENT": world.ctx.settings.database_url,
            "ALIPAY_GATEWAY_URL": f"http://127.0.0.1:{port}/alipay/gateway.do",
            "ALIPAY_APP_PRIVATE_KEY_FILE": str(key_dir / APP_PRIVATE),
            "ALIPAY_PUBLIC_KEY_FILE": str(key_dir / ALIPAY_PUBLIC),
            "PAYEASE_API_BASE_URL": f"http://127.0.0.1:{port}/payease",
            "PAYEASE_PAY_URL": f"http://127.0.0.1:{port}/payease/prs/user_payment.checkit",
            "PAYEASE_KEY_FILE": str(key_dir / PAYEASE_KEY),
            "CET_ENV": "test",
        }.items():
            monkeypatch.setenv(name, value)
        from payment.bootstrap import bootstrap

        ctx = bootstrap(clock=world.ctx.clock)  # configured from the environment only, like production
        try:
            from cet_shared.auth import Principal
            from payment.service.orders import checkout, create_order

            passport_id, _, enrolment_ids = await world.registration()
            principal = Principal(passport_id=passport_id, roles=frozenset({"candidate"}))
            order = await create_order(ctx.unit_of_work(), ctx.clock, ctx.settings, principal, enrolment_ids[:2])
            form = await checkout(ctx.unit_of_work(), ctx.clock, ctx.settings, ctx.gateways, principal, order.order_id, "alipay", None)
            page = await sandbox.post(form.redirect.url.removeprefix(f"http://127.0.0.1:{port}"), data=form.redirect.fields)
            assert "确认付款" in page.text, page.text
            out_trade_no = json.loads(form.redirect.fields["biz_content"])["out_trade_no"]
            paid = await sandbox.post(f"/sandbox/trades/{out_trade_no}/pay", params={"notify": "false"})
            assert paid.json()["status"] == "TRADE_SUCCESS"
        finally:
            await ctx.close()

        day = to_shanghai(world.ctx.clock.now()).date().isoformat()
        output = StringIO()
        with redirect_stdout(output):
            code = await asyncio.to_thread(payment_admin, ["reconcile", "--date", day, "--gateway", "alipay"])
    assert code == 0
    [report] = json.loads(output.getvalue())
    assert report["settled"] == 1 and [f["out_trade_no"] for f in report["findings"]] == [out_trade_no]
    assert await world.scalar(select(orders.c.status).where(orders.c.order_id == order.order_id)) == "paid"
    assert isinstance(uuid.UUID(report["run_id"]), uuid.UUID)
