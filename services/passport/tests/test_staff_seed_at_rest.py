"""Staff TOTP seeds are stored encrypted (issue 15, point 1), on the real PostgreSQL: what the
database holds is ciphertext under a key id; an older key's seed is sealed again with the current
key at the next log-in; migration ts01 seals the seeds stored before it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import uuid
from datetime import timedelta

import pyotp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cet_shared.clock import ManualClock
from cet_shared.db.migrations import upgrade
from cet_shared.pytest_plugin import asgi_client
from cet_shared.testing import throwaway_database
from passport.api.app import create_app
from passport.bootstrap import bootstrap
from passport.cli import ADMIN
from passport.domain.accounts import staff_roles
from passport.domain.seed_seal import SeedSeal
from passport.service.registration import create_staff

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "Teach-2017x"


async def _teacher(ctx) -> str:
    return await create_staff(
        ctx.unit_of_work(),
        email="teacher@99101.test",
        password=PASSWORD,
        roles=staff_roles({"teacher"}),
        school_code="99101",
        passwords=ctx.passwords,
        clock=ctx.clock,
    )


async def _begin(api):
    return await api.client.post("/staff/sessions", json={"email": "teacher@99101.test", "password": PASSWORD, **api.captchas.solved()})


def _code(ctx, secret: str) -> str:
    return pyotp.TOTP(secret).at(ctx.clock.now())


async def _scalar(ctx, sql: str, **params):
    async with ctx.engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar()


def _captcha(ctx) -> dict[str, str]:
    return {"captcha_token": ctx.captcha.seal("K7PX", clock=ctx.clock, ttl=timedelta(minutes=5)), "captcha_answer": "K7PX"}


async def _stored(ctx, passport_id: str) -> str:
    return await _scalar(ctx, "SELECT totp_seed_sealed FROM staff_accounts WHERE passport_id = :id", id=passport_id)


async def test_the_enrolled_seed_is_stored_sealed_and_still_checks_codes(api, ctx) -> None:
    passport_id = await _teacher(ctx)
    body = (await _begin(api)).json()
    stored = await _stored(ctx, passport_id)
    assert body["secret"] not in stored and stored.startswith("dev:"), "ciphertext under the key id, not the seed"
    assert ctx.seeds.open(stored, passport_id=passport_id) == body["secret"]
    done = await api.client.post("/staff/sessions/second-factor", json={"challenge": body["challenge"], "code": _code(ctx, body["secret"])})
    assert done.status_code == 200, done.text


async def test_a_seed_sealed_with_an_older_key_is_sealed_again_with_the_current_one(api, ctx, settings) -> None:
    passport_id = await _teacher(ctx)
    body = (await _begin(api)).json()
    await api.client.post("/staff/sessions/second-factor", json={"challenge": body["challenge"], "code": _code(ctx, body["secret"])})
    development = base64.b64encode(hashlib.sha256(("cet-totp-seed:" + settings.captcha_secret).encode()).digest()).decode()
    keys = f"k2={base64.b64encode(os.urandom(32)).decode()},dev={development}"  # a new key first, the old one still listed
    rotated = bootstrap(settings.model_copy(update={"totp_seed_keys": keys}), clock=ManualClock(ctx.clock.now() + timedelta(minutes=1)))
    try:
        async with asgi_client(create_app(rotated), "http://passport.test") as client:
            again = await client.post("/staff/sessions", json={"email": "teacher@99101.test", "password": PASSWORD, **_captcha(rotated)})
            assert again.status_code == 200 and again.json()["second_factor"] == "totp", again.text
            stored = await _stored(ctx, passport_id)
            assert stored.startswith("k2:") and rotated.seeds.open(stored, passport_id=passport_id) == body["secret"]
            code = await client.post("/staff/sessions/second-factor", json={"challenge": again.json()["challenge"], "code": _code(rotated, body["secret"])})
            assert code.status_code == 200, code.text
    finally:
        await rotated.close()


async def test_migration_ts01_seals_the_seeds_stored_in_plain_text(monkeypatch) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("PASSPORT_TOTP_SEED_KEYS", f"m1={key}")
    async with throwaway_database("passport_ts01") as url:
        await asyncio.to_thread(upgrade, url, ADMIN.migrations, "st01")
        passport_id = uuid.uuid4().hex
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("INSERT INTO accounts (passport_id, email, email_normalised, password_hash) VALUES (:id, 't@99101.test', 't@99101.test', 'x')"),
                    {"id": passport_id},
                )
                await connection.execute(text("INSERT INTO staff_accounts (passport_id, totp_secret) VALUES (:id, :seed)"), {"id": passport_id, "seed": SEED})
            await asyncio.to_thread(upgrade, url, ADMIN.migrations)
            async with engine.connect() as connection:
                stored = (await connection.execute(text("SELECT totp_seed_sealed FROM staff_accounts"))).scalar_one()
        finally:
            await engine.dispose()
    assert stored.startswith("m1:") and SEED not in stored
    assert SeedSeal.parse(f"m1={key}").open(stored, passport_id=passport_id) == SEED
