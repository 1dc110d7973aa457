"""Log-ins through the gateway (issue 11, point 4(c)): passport's real api process (`passport-api`,
uvicorn) behind an nginx rendered from the suite's templates, on a throw-away database of the local
PostgreSQL, driven by the peak benchmark's compiled generator (bench/loadgen) from 200 client
addresses, one fresh captcha and one account per log-in.

    . .local/env && uv run python services/passport/tools/login_gateway.py [--logins 600] [--conns 16,64]

Prints, with the load average: the raw argon2id verification rate in this process (the yardstick,
before and after); per closed-loop step, log-ins/s (wall), the api process's CPU per log-in and so
log-ins per second per core, the gateway's and PostgreSQL's CPU per log-in, p50/p99 and the api's
peak RSS (VmHWM); then an open loop at half the best closed-loop rate, its p50/p99. Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from argon2_rate import rate as hash_rate
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from process_stats import ProcessCpu, peak_rss_mib, postgres_pids
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import SystemClock
from cet_shared.testing import throwaway_database, wait_for_http
from passport.bootstrap import password_hasher
from passport.cli import migrate
from passport.db.tables import accounts
from passport.settings import PassportSettings

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "Cet2017-pass"
CAPTCHA_SECRET = "login-gateway-bench-captcha-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loadgen(var: Path) -> Path:
    """bench/loadgen built into this worktree's .local (never into a folder other runs share)."""
    binary = var / "tools" / "cet-loadgen"
    binary.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=REPO / "bench" / "loadgen", check=True)
    return binary


async def seed_accounts(url: str, count: int, settings: PassportSettings) -> list[str]:
    """`count` candidates with the configured argon2id parameters (one hash: each verification costs the same)."""
    stored = password_hasher(settings).hash(PASSWORD)
    emails = [f"peak{i}@example.com" for i in range(count)]
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            insert(accounts),
            [{"passport_id": uuid.uuid4().hex, "email": e, "email_normalised": e, "password_hash": stored} for e in emails],
        )
    await engine.dispose()
    return emails


class Stack:
    def __init__(self, url: str, var: Path) -> None:
        self.var = var
        self.api_port, self.gateway_port = free_port(), free_port()
        key = Path(tempfile.mkdtemp()) / "jwt.pem"
        key.write_bytes(Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.env = {
            **os.environ,
            "DATABASE_URL_PASSPORT": url,
            "JWT_PRIVATE_KEY_FILE": str(key),
            "CAPTCHA_SECRET": CAPTCHA_SECRET,
            "CET_ENV": "development",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        api = [sys.executable, "-c", "from passport.entrypoints import run_api; run_api()", "--port", str(self.api_port)]
        self.processes["api"] = subprocess.Popen(api, env=self.env, stdout=subprocess.DEVNULL)
        wait_for_http(f"http://127.0.0.1:{self.api_port}/healthz", self.processes["api"])
        gateway_env = {**self.env, "CET_GW_LISTEN": f"127.0.0.1:{self.gateway_port}", "CET_GW_PASSPORT": f"127.0.0.1:{self.api_port}"}
        prefix = self.var / "bench" / "gateway-login"
        rendered = subprocess.run(
            [sys.executable, str(REPO / "deploy" / "gateway" / "render.py"), "--prefix", str(prefix)],
            env=gateway_env,
            capture_output=True,
            text=True,
            check=True,
        )
        self.processes["gateway"] = subprocess.Popen(shlex.split(rendered.stdout.strip()), stdout=subprocess.DEVNULL)
        wait_for_http(f"http://127.0.0.1:{self.gateway_port}/healthz", self.processes["gateway"])

    def gateway_pids(self) -> list[int]:
        master = self.processes["gateway"].pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [master, *map(int, children)]

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def requests_file(path: Path, emails: list[str], count: int) -> Path:
    seal, clock = CaptchaSeal(CAPTCHA_SECRET), SystemClock()
    with path.open("w") as out:
        for i in range(count):
            token = seal.seal("K7PX", clock=clock, ttl=timedelta(minutes=30))
            body = json.dumps({"email": emails[i % len(emails)], "password": PASSWORD, "captcha_token": token, "captcha_answer": "K7PX"})
            out.write(f"login\tPOST\t/api/passport/sessions\t\t{body}\n")
    return path


def run_step(binary: Path, stack: Stack, reqs: Path, *, conns: int = 0, rate: float = 0.0) -> dict[str, float]:
    cpu = ProcessCpu({"api": [stack.processes["api"].pid], "gateway": stack.gateway_pids(), "postgres": postgres_pids()})
    summary_path = reqs.with_suffix(".json")
    mode = ["-rate", f"{rate:.2f}"] if rate else ["-conns", str(conns)]
    command = [
        str(binary),
        "-target",
        f"http://127.0.0.1:{stack.gateway_port}",
        "-requests",
        str(reqs),
        *mode,
        "-sources",
        "200",
        "-summary",
        str(summary_path),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    spent = cpu.spent()
    login = json.loads(summary_path.read_text())["kinds"]["login"]
    ok = max(1, login["ok"])
    return {
        "ok": login["ok"],
        "requests": login["requests"],
        "per_second": login["ok"] / login["seconds"],
        "p50_ms": login["p50_ms"],
        "p99_ms": login["p99_ms"],
        **{f"{name}_ms": 1000 * seconds / ok for name, seconds in spent.items()},
        "api_rss_mib": peak_rss_mib(stack.processes["api"].pid),
    }


def report(label: str, step: dict[str, float]) -> None:
    print(
        f"{label:24} {step['ok']:>4.0f}/{step['requests']:<4.0f} ok  {step['per_second']:6.1f} log-ins/s wall  p50 {step['p50_ms']:6.0f} ms  p99 {step['p99_ms']:6.0f} ms"
        f"  | CPU per log-in: api {step['api_ms']:5.1f} ms ({1000 / max(step['api_ms'], 1e-9):5.1f}/s per core), gateway {step['gateway_ms']:4.2f}, PostgreSQL {step['postgres_ms']:4.2f}"
        f"  | api VmHWM {step['api_rss_mib']:5.1f} MiB  load {os.getloadavg()[0]:.1f}"
    )


def yardstick(settings: PassportSettings) -> str:
    per_core, cpu_ms = hash_rate(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism, 3.0)
    return f"raw argon2id verification: {cpu_ms:.1f} ms CPU, {per_core:.1f}/s per core (load {os.getloadavg()[0]:.1f})"


async def main(args: argparse.Namespace) -> None:
    var = Path(os.environ.get("CET_VAR", REPO / ".local"))
    binary = loadgen(var)
    work = Path(tempfile.mkdtemp(prefix="login-gateway-"))
    async with throwaway_database("login_gateway") as url:
        await asyncio.to_thread(migrate, url)
        settings = PassportSettings(database_url=url, jwt_private_key_file="-", captcha_secret=CAPTCHA_SECRET, environment="development")
        emails = await seed_accounts(url, args.accounts, settings)
        print(f"argon2id m={settings.argon2_memory_kib} KiB t={settings.argon2_time_cost} p={settings.argon2_parallelism}; {os.cpu_count()} cores")
        print(yardstick(settings))
        stack = Stack(url, var)
        stack.start()
        try:
            print(f"api VmHWM at rest {peak_rss_mib(stack.processes['api'].pid):.1f} MiB")
            run_step(binary, stack, requests_file(work / "warm.tsv", emails, 40), conns=4)
            best = 0.0
            for conns in args.conns:
                step = run_step(binary, stack, requests_file(work / f"closed{conns}.tsv", emails, args.logins), conns=conns)
                report(f"closed loop, {conns} at once", step)
                best = max(best, step["per_second"])
            half = best / 2
            step = run_step(binary, stack, requests_file(work / "open.tsv", emails, max(40, int(half * args.open_seconds))), rate=half)
            report(f"open loop {half:.1f}/s", step)
        finally:
            stack.stop()
        print(yardstick(settings))


def cli() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=600, help="log-ins per closed-loop step")
    parser.add_argument("--conns", type=lambda s: [int(c) for c in s.split(",")], default=[16, 64], help="closed-loop steps: log-ins at once")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--open-seconds", type=float, default=20.0, help="length of the open-loop step at half the best rate")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
