"""seat_grab.py's set-up: a throw-away enrolment database seeded with a published session and
bound candidates holding their written subjects, and the api replicas (uvicorn processes) that
serve it."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import psutil


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _prepare(database_url: str, *, candidates: int, seats: int, tokens) -> dict:
    from sqlalchemy import insert, text

    from cet_shared.events.contracts import RegistrationBound, RegistrationSnapshot
    from enrolment.bootstrap import bootstrap
    from enrolment.db.tables import enrolments
    from enrolment.service.projections import on_registration_bound
    from enrolment.service.session_specs import SessionSpec
    from enrolment.service.sessions import create_session, publish
    from enrolment.settings import EnrolmentSettings

    ctx = bootstrap(EnrolmentSettings(database_url=database_url, environment="test"))
    now = datetime.now(UTC)
    window = {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=10)}
    spec = SessionSpec.model_validate(
        {
            "name": "2017年下半年CET考试 (bench)",
            "year": 2017,
            "half": 2,
            "registration": window,
            "written_exam_date": (now + timedelta(days=30)).date(),
            "oral_exam_dates": {"F": (now + timedelta(days=20)).date(), "S": (now + timedelta(days=21)).date()},
            "campuses": [
                {
                    "province_code": "99",
                    "school_code": "99101",
                    "school_name": "测试学校",
                    "campus_code": "991010",
                    "campus_name": "99101-0校区",
                    "offerings": [
                        {"subject": "1", "fee_fen": 1},
                        {"subject": "2", "fee_fen": 1},
                        {"subject": "F", "fee_fen": 1, "capacity": candidates, **window},
                        {"subject": "S", "fee_fen": 1, "capacity": seats, **window},
                    ],
                },
                # The bare endpoint's rows: same table, same shape, their own seats.
                {
                    "province_code": "99",
                    "school_code": "99102",
                    "school_name": "基准",
                    "campus_code": "991020",
                    "campus_name": "基准",
                    "offerings": [
                        {"subject": "F", "fee_fen": 1, "capacity": candidates, **window},
                        {"subject": "S", "fee_fen": 1, "capacity": seats, **window},
                    ],
                },
            ],
        }
    )
    session_id = await create_session(ctx.unit_of_work, spec)
    await publish(ctx.unit_of_work, ctx.clock, session_id)
    async with ctx.engine.connect() as connection:
        offering = {(campus, code): oid for oid, campus, code in (await connection.execute(text("SELECT id, campus_code, subject_code FROM offerings"))).all()}
    people = []
    async with ctx.unit_of_work() as uow:
        for index in range(candidates):
            passport_id, registration_id = uuid.uuid4().hex.upper(), uuid.uuid4()
            snapshot = RegistrationSnapshot(
                name=f"考生{index}",
                gender="女",
                id_type="resident_id_card",
                id_number=f"99{index:016d}",
                province_code="99",
                school_code="99101",
                school_name="测试学校",
                campus_code="991010",
                campus_name="99101-0校区",
                qualification_subjects=["1", "2", "F", "S"],
            )
            await on_registration_bound(
                uow, RegistrationBound(registration_id=registration_id, exam_session_id=session_id, passport_id=passport_id, snapshot=snapshot, bound_at=now)
            )
            people.append((registration_id, tokens.headers(passport_id, "candidate")))
        await uow.session.execute(text("UPDATE registrations SET notices_acknowledged_at = now()"))
        # The written subjects the orals need (N6), held as a candidate's earlier batch would be.
        rows = [
            {
                "id": uuid.uuid4(),
                "registration_id": registration_id,
                "exam_session_id": session_id,
                "offering_id": offering[("991010", code)],
                "subject_code": code,
                "kind": "written",
                "level": level,
                "fee_fen": 1,
                "status": "held",
                "seat_held": True,
                "enrolled_at": now,
                "expires_at": now + timedelta(hours=24),
            }
            for registration_id, _ in people
            for code, level in (("1", 4), ("2", 6))
        ]
        await uow.session.execute(insert(enrolments), rows)
        await uow.commit()
    await ctx.close()
    return {"offering": offering, "people": people}


@dataclass
class Replicas:
    urls: list[str]
    processes: list[subprocess.Popen]
    peak_rss: list[int] = field(default_factory=list)

    async def sample_rss(self, stop: asyncio.Event) -> None:
        handles = [psutil.Process(p.pid) for p in self.processes]
        self.peak_rss = [0] * len(handles)
        while not stop.is_set():
            for i, handle in enumerate(handles):
                try:
                    self.peak_rss[i] = max(self.peak_rss[i], handle.memory_info().rss)
                except psutil.NoSuchProcess:
                    pass  # reported after the run as a replica that exited early
            try:
                await asyncio.wait_for(stop.wait(), 0.1)
            except TimeoutError:
                pass

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes:
            try:
                times = psutil.Process(process.pid).cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def _start(app: str, env: dict[str, str], *, factory: bool, app_dir: str | None = None) -> Replicas:
    ports = [_free_port(), _free_port()]
    # Keep-alive longer than any wait in the run: a server closing an idle connection just as the
    # client reuses it would be a transport error, not an answer.
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--no-access-log", "--log-level", "warning", "--timeout-keep-alive", "120"]
    if factory:
        command.append("--factory")
    if app_dir:
        command += ["--app-dir", app_dir]
    processes = [subprocess.Popen([*command, "--port", str(port)], env=env) for port in ports]
    replicas = Replicas([f"http://127.0.0.1:{port}" for port in ports], processes)
    async with httpx.AsyncClient() as http:
        for url, process in zip(replicas.urls, processes):
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"{app} on {url} exited with {process.returncode}")
                try:
                    if (await http.get(f"{url}/openapi.json")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{app} on {url} did not start")
                await asyncio.sleep(0.2)
    return replicas
