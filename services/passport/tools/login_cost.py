"""CPU one log-in and one refresh cost in passport's api process, through its HTTP API on the real
PostgreSQL (a throw-away database), with the configured argon2id parameters (issue 11).

    . .local/env && uv run python services/passport/tools/login_cost.py [--count 200] [--profile FILE]

"per core" is 1 / the api process's CPU seconds per request (the in-process HTTP client's share
included, so the figure errs low); PostgreSQL's CPU is its own process and not counted. Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from httpx import ASGITransport, AsyncClient

from cet_shared.testing import throwaway_database
from passport.api.app import create_app
from passport.bootstrap import bootstrap
from passport.cli import migrate
from passport.settings import PassportSettings

PASSWORD = "Cet2017-pass"


async def measure(count: int, *, profile: str | None = None) -> None:
    key = Path(tempfile.mkdtemp()) / "jwt.pem"
    key.write_bytes(Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    async with throwaway_database("login_cost") as url:
        await asyncio.to_thread(migrate, url)
        settings = PassportSettings(
            database_url=url,
            jwt_private_key_file=str(key),
            captcha_secret="login-cost-captcha-secret",
            environment="test",
            login_failures_per_client=10**6,
            refresh_cookie_path="/sessions",
        )
        ctx = bootstrap(settings)
        app = create_app(ctx)

        def captcha() -> dict[str, str]:
            return {"captcha_token": ctx.captcha.seal("K7PX", clock=ctx.clock, ttl=timedelta(minutes=5)), "captcha_answer": "K7PX"}

        async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://passport.test") as http:
            registered = await http.post("/accounts", json={"email": "peak@example.com", "password": PASSWORD, "confirm_password": PASSWORD, **captcha()})
            assert registered.status_code == 202, registered.text
            print(
                f"argon2id m={settings.argon2_memory_kib // 1024} MiB t={settings.argon2_time_cost} p={settings.argon2_parallelism}; load average {os.getloadavg()[0]:.2f}"
            )
            for name in ("log-in", "refresh"):
                profiler = cProfile.Profile(time.thread_time) if profile and name == "log-in" else None
                if profiler:
                    profiler.enable()
                times0, cpu0, wall0 = os.times(), time.process_time(), time.perf_counter()
                for _ in range(count):
                    if name == "log-in":
                        response = await http.post("/sessions", json={"email": "peak@example.com", "password": PASSWORD, **captcha()})
                    else:
                        response = await http.post("/sessions/refresh")
                    assert response.status_code == 200, response.text
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                times = os.times()
                user, system = times.user - times0.user, times.system - times0.system
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler).dump_stats(profile)
                    pstats.Stats(profile).sort_stats("tottime").print_stats(25)
                print(
                    f"{name:8}: {1000 * cpu / count:6.1f} ms CPU each in the api process -> {count / cpu:6.1f} per second per core"
                    f" ({count / wall:.1f}/s wall, one at a time; user {1000 * user / count:.1f} + system {1000 * system / count:.1f} ms)"
                )
        await ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the log-ins into FILE, CPU time of the event loop's thread (the hash runs in another)")
    args = parser.parse_args()
    asyncio.run(measure(args.count, profile=args.profile))


if __name__ == "__main__":
    main()
