"""The api under real database faults (issue 10): a stopped or unreachable PostgreSQL is answered
503 problem+json with Retry-After within 10 s, never 500; a deadlock victim runs again."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from cet_shared.db import create_engine
from cet_shared.problems import install_problem_handlers
from cet_shared.request_retry import RetryConflicts
from cet_shared.toxiproxy import Toxiproxy
from cet_shared.web import create_app


def counting_app(engine, app: FastAPI | None = None) -> FastAPI:
    app = app or create_app(title="faults")

    @app.get("/count")
    async def count() -> dict:
        async with engine.connect() as connection:
            return {"n": (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar()}

    return app


async def ask(app: FastAPI, path: str) -> tuple[httpx.Response, float]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://api") as client:
        started = time.monotonic()
        response = await client.get(path)
        return response, time.monotonic() - started


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
async def test_an_unreachable_database_is_answered_503_with_retry_after_within_10_seconds(database_url, tmp_path, fault):
    with Toxiproxy(tmp_path / "toxiproxy.log") as toxiproxy:
        pg = toxiproxy.proxy("pg", database_url.split("@", 1)[1].split("/", 1)[0])
        engine = create_engine(database_url.replace(pg.upstream, pg.address), pool_size=2)
        app = counting_app(engine)
        healthy, _ = await ask(app, "/count")
        assert healthy.status_code == 200
        getattr(pg, fault)()
        answers = await asyncio.gather(*(ask(app, "/count") for _ in range(3)))
        pg.heal()
        recovered, _ = await ask(app, "/count")
        await engine.dispose()
    for response, seconds in answers:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json" and response.headers["retry-after"] == "5"
        assert response.json()["code"] == "service_unavailable" and response.json()["title"]
        assert seconds < 10, f"answered after {seconds:.1f}s"
    assert recovered.status_code == 200
    print(f"\n[figures] db_{fault}_api: slowest answer {max(s for _, s in answers):.1f}s")


def deadlocking_app(engine, *, attempts: int) -> tuple[FastAPI, dict[str, int]]:
    """Two requests lock rows 1 and 2 in opposite orders, both holding their first lock first."""
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RetryConflicts, attempts=attempts)
    both_hold_their_first = asyncio.Barrier(2)
    tries: dict[str, int] = {}

    @app.post("/swap/{first}/{second}")
    async def swap(first: int, second: int) -> dict:
        name = f"{first}-{second}"
        tries[name] = tries.get(name, 0) + 1
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE swap_rows SET v = v + 1 WHERE id = :id"), {"id": first})
            if tries[name] == 1:
                await both_hold_their_first.wait()
            await connection.execute(text("UPDATE swap_rows SET v = v + 1 WHERE id = :id"), {"id": second})
        return {"ok": True}

    return app, tries


async def swap_both(app: FastAPI) -> list[httpx.Response]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://api") as client:
        return list(await asyncio.gather(client.post("/swap/1/2"), client.post("/swap/2/1")))


async def test_a_deadlock_victim_runs_again_instead_of_answering_an_error(database_url):
    engine = create_engine(database_url, pool_size=4)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS swap_rows (id int PRIMARY KEY, v int NOT NULL)"))
        await connection.execute(text("INSERT INTO swap_rows VALUES (1, 0), (2, 0) ON CONFLICT (id) DO UPDATE SET v = 0"))
    try:
        unguarded, _ = deadlocking_app(engine, attempts=1)
        answers = await swap_both(unguarded)
        assert sorted(r.status_code for r in answers) == [200, 503], "without retries PostgreSQL's victim fails"
        guarded, tries = deadlocking_app(engine, attempts=4)
        answers = await swap_both(guarded)
        assert [r.status_code for r in answers] == [200, 200]
        assert sorted(tries.values()) == [1, 2], "the victim ran once more"
        async with engine.connect() as connection:
            values = (await connection.execute(text("SELECT v FROM swap_rows ORDER BY id"))).scalars().all()
        assert values == [3, 3], "the unguarded winner and both guarded requests, each once"
    finally:
        await engine.dispose()


async def test_retry_transaction_runs_a_deadlock_victim_again(database_url):
    """The same helper for sweepers and CLIs: two units of work locking in opposite orders."""
    from cet_shared.resilience import retry_transaction

    engine = create_engine(database_url, pool_size=4)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS swap_rows (id int PRIMARY KEY, v int NOT NULL)"))
        await connection.execute(text("INSERT INTO swap_rows VALUES (1, 0), (2, 0) ON CONFLICT (id) DO UPDATE SET v = 0"))
    both_hold_their_first = asyncio.Barrier(2)
    tries = {1: 0, 2: 0}

    def swap(first: int, second: int):
        async def work() -> None:
            tries[first] += 1
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE swap_rows SET v = v + 1 WHERE id = :id"), {"id": first})
                if tries[first] == 1:
                    await both_hold_their_first.wait()
                await connection.execute(text("UPDATE swap_rows SET v = v + 1 WHERE id = :id"), {"id": second})

        return work

    try:
        await asyncio.gather(retry_transaction(swap(1, 2)), retry_transaction(swap(2, 1)))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT sum(v) FROM swap_rows"))).scalar() == 4
        assert sorted(tries.values()) == [1, 2]
    finally:
        await engine.dispose()
