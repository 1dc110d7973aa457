"""The sign-up peak benchmark (issue 11): the running suite (`make up`) through its gateway,
against the naive design measured in the same run. Figures, not a test.

    make bench-peak [ARGS=--quick]        (= uv run python bench/peak.py [--quick])

Scenarios, each as a closed-loop maximum and then open loops at 25/50/75/100 % of it:
  (a) grab        one campus, capacity 50, 5,000 candidates grabbing its oral seats (refusals/s);
  (b) throughput  one campus, capacity = candidates: every request can become a hold (holds/s);
  (c) peak mix    log-in alone (closed, then open at 50 %), then the mix of MIX below.
The yardsticks run in the same process, interleaved with enrolment's steps: the bare FastAPI +
asyncpg endpoint (bench/yardstick.py, two replicas behind a second instance of the same gateway
configuration) in (a) and (b), and pgbench's same statement on the same PostgreSQL.
Every step uses fresh candidates (each sends one request of its kind), seeded just before it
(bench/peak_seed.py). See bench/README.md for what is printed and how to read it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak_procs import Processes
from peak_report import print_report
from peak_run import (
    GATEWAY,
    Request,
    audit_enrolment,
    build_loadgen,
    idle_rates,
    run_step,
)
from peak_seed import PASSWORD, Cohort, Credentials, load_env, seed
from yardstick import BARE_GATEWAY, Yardstick, pgbench

FRACTIONS = (0.25, 0.50, 0.75, 1.00)
# The peak mix, per 100 requests: a candidate logs in once, looks at the registration page and
# the oral campus list a few times (reloading while waiting for a campus to open), and enrols.
MIX = {"login": 10, "registration": 30, "campuses": 30, "written": 15, "oral": 15}
ENROLMENT = "/api/enrolment"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.steps = []
        self.cohort_index = random.randint(100, 899)  # campus codes of this run (a session per seed)
        self.processes = Processes()
        self.credentials: Credentials | None = None
        self.yardstick: Yardstick | None = None

    def log(self, text: str) -> None:
        print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)

    async def cohort(self, name: str, size: int, capacity: int, *, written_held: bool = True) -> Cohort:
        self.cohort_index += 1
        cohort = Cohort(name, self.cohort_index % 1000, size, capacity, written_held)
        started = time.monotonic()
        await seed([cohort], self.log)
        self.log(f"  seeded in {time.monotonic() - started:.1f} s")
        await asyncio.sleep(self.args.settle)  # the session's and nothing else's events drained
        return cohort

    def oral(self, cohort: Cohort, subject: str) -> list[Request]:
        return [
            Request("oral", "POST", f"{ENROLMENT}/me/oral", self.credentials.token(p), {"offering_id": str(cohort.offering[subject])}, p.registration_id)
            for p in cohort.people
        ]

    async def step(
        self,
        label: str,
        contender: str,
        requests: list[Request],
        *,
        conns: int | None = None,
        rate: float = 0.0,
        watch: bool = False,
        audit: tuple[Cohort, str] | None = None,
    ):
        self.log(f"{label}: {len(requests)} requests" + (f" at {rate:.0f}/s" if rate else f", closed loop, {conns or self.args.conns} connections"))
        target = f"http://{BARE_GATEWAY}" if contender == "bare" else GATEWAY
        result = await run_step(label, contender, requests, self.processes, conns=conns or self.args.conns, rate=rate, target=target, watch=watch)
        if audit:
            await audit_enrolment(result, audit[0].offering[audit[1]])
        self.steps.append(result)
        k = result.summary["all"]
        self.log(
            f"  {k['per_second']:.0f} req/s, ok {k['ok']}, codes {k['codes']}, errors {k['errors']}, p50 {k['p50_ms']:.0f} ms, p99 {k['p99_ms']:.0f} ms"
            + (f", effect {result.effect}" if result.effect else "")
        )
        return result

    async def bare_step(self, label: str, count: int, capacity: int, *, rate: float = 0.0):
        offering = await self.yardstick.new_offering(capacity)
        requests = [Request("oral", "POST", f"{ENROLMENT}/me/oral", "", {"offering_id": str(offering)}) for _ in range(count)]
        result = await self.step(label, "bare", requests, rate=rate)
        result.oversold, result.lost = await self.yardstick.audit(offering, len(result.ok_ids.get("oral", ())))
        return result

    async def seat_scenario(self, name: str, size: int, capacity_of) -> None:
        """Closed loop for both contenders, then each at fractions of its own maximum (requests/s:
        refusals in (a), holds in (b), where every request holds)."""
        bare = await self.bare_step(f"bare ({name}) closed", size, capacity_of(size))
        cohort = await self.cohort(f"{name}-closed", size, capacity_of(size))
        mine = await self.step(f"enrolment ({name}) closed", "enrolment", self.oral(cohort, "S"), watch=True, audit=(cohort, "S"))
        for fraction in FRACTIONS:
            for contender, maximum in (("bare", bare), ("enrolment", mine)):
                rate = fraction * maximum.summary["all"]["per_second"]
                count = min(size, max(20, math.ceil(rate * self.args.open_seconds)))
                label = f"{contender} ({name}) open {fraction:.0%}"
                if contender == "bare":
                    await self.bare_step(label, count, capacity_of(count), rate=rate)
                else:
                    c = await self.cohort(f"{name}-open{fraction:.0%}", count, capacity_of(count))
                    await self.step(label, "enrolment", self.oral(c, "S"), rate=rate, watch=True, audit=(c, "S"))

    async def warm_up(self) -> None:
        """Both contenders' connections, pools and first-request paths warmed, not measured."""
        self.log("warm-up (not measured)")
        offering = await self.yardstick.new_offering(100)
        bare = [Request("oral", "POST", f"{ENROLMENT}/me/oral", "", {"offering_id": str(offering)}) for _ in range(300)]
        await run_step("warm-up bare", "bare", bare, self.processes, conns=self.args.conns, target=f"http://{BARE_GATEWAY}")
        cohort = await self.cohort("warm-up", 300, 50)
        pages = [Request("registration", "GET", f"{ENROLMENT}/me/registration", self.credentials.token(p)) for p in cohort.people]
        await run_step("warm-up enrolment", "enrolment", self.oral(cohort, "S") + pages, self.processes, conns=self.args.conns)

    def logins(self, people) -> list[Request]:
        out = []
        for p in people:
            token, answer = self.credentials.captcha()
            out.append(
                Request(
                    "login", "POST", "/api/passport/sessions", "", {"email": p.email, "password": PASSWORD, "captcha_token": token, "captcha_answer": answer}
                )
            )
        return out

    async def mix_scenario(self) -> None:
        a = self.args
        pool = await self.cohort("c-login", max(a.logins, 40), 10)
        login = await self.step("passport (c) log-in closed", "passport", self.logins(pool.people[: a.logins]), conns=a.login_conns)
        rate = 0.5 * login.ok_per_second("login")
        count = min(len(pool.people), max(10, math.ceil(rate * a.open_seconds)))
        await self.step("passport (c) log-in open 50%", "passport", self.logins(pool.people[:count]), rate=rate)
        mix_max = None
        for label, total, rate in (("closed", a.mix, 0.0), ("open 50%", None, None)):
            if total is None:
                rate = 0.5 * mix_max
                total = min(a.mix, max(40, math.ceil(rate * a.open_seconds)))
            counts = {kind: max(1, total * share // 100) for kind, share in MIX.items()}
            oral = await self.cohort(f"c-oral-{label}", counts["oral"], counts["oral"])
            written = await self.cohort(f"c-written-{label}", counts["written"], 10, written_held=False)
            everyone = oral.people + written.people
            requests = self.oral(oral, "F")
            requests += [
                Request("written", "POST", f"{ENROLMENT}/me/written", self.credentials.token(p), {"subject_codes": ["1", "2"]}, p.registration_id)
                for p in written.people
            ]
            requests += [
                Request("registration", "GET", f"{ENROLMENT}/me/registration", self.credentials.token(random.choice(everyone)))
                for _ in range(counts["registration"])
            ]
            requests += [
                Request("campuses", "GET", f"{ENROLMENT}/me/oral/F/campuses", self.credentials.token(random.choice(everyone)))
                for _ in range(counts["campuses"])
            ]
            requests += self.logins(random.sample(everyone, min(len(everyone), counts["login"])))
            random.shuffle(requests)
            result = await self.step(f"mix (c) {label}", "mix", requests, rate=rate, watch=True, audit=(oral, "F"))
            mix_max = mix_max or result.summary["all"]["per_second"]

    async def run(self) -> dict:
        a = self.args
        load_env()
        build_loadgen()
        self.processes.add_suite()
        if "gateway" not in self.processes.roots:
            raise SystemExit("the suite is not running: make up")
        self.credentials = Credentials()
        self.yardstick = Yardstick(os.environ["PG_ADMIN_URL"], Path(os.environ.get("CET_VAR", Path(__file__).resolve().parents[1] / ".local")))
        await self.yardstick.prepare()
        self.yardstick.start()
        for name, process in self.yardstick.processes.items():
            self.processes.add(name, process.pid)
        results: dict = {}
        try:
            await self.warm_up()
            await asyncio.sleep(2)
            self.log(f"idle baseline: {a.idle_seconds:.0f} s without load")
            results["idle"] = await idle_rates(self.processes, a.idle_seconds)
            if "a" in a.scenarios:
                await self.seat_scenario("a", a.grab_candidates, lambda n: a.grab_seats)
            if "b" in a.scenarios:
                await self.seat_scenario("b", a.throughput_candidates, lambda n: n)
            if "c" in a.scenarios:
                await self.mix_scenario()
            offering = await self.yardstick.new_offering(10**9)
            with tempfile.TemporaryDirectory() as tmp:
                self.log(f"pgbench: {a.conns} clients, {a.pgbench_seconds} s")
                results["pgbench"] = pgbench(self.yardstick.url, offering, self.yardstick.table, clients=a.conns, seconds=a.pgbench_seconds, workdir=Path(tmp))
        finally:
            self.yardstick.stop()
            await self.credentials.close()
        results["steps"] = self.steps
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the bench out (not figures)")
    parser.add_argument("--scenarios", default="abc", help="any of a, b, c")
    parser.add_argument("--conns", type=int, default=64, help="closed-loop connections (and pgbench clients)")
    parser.add_argument("--grab-candidates", type=int, default=5000)
    parser.add_argument("--grab-seats", type=int, default=50)
    parser.add_argument("--throughput-candidates", type=int, default=3000)
    parser.add_argument("--logins", type=int, default=120, help="log-ins of the closed log-in step")
    parser.add_argument("--login-conns", type=int, default=16)
    parser.add_argument("--mix", type=int, default=2000, help="requests of the closed mix step")
    parser.add_argument("--open-seconds", type=float, default=8.0, help="length of an open-loop step (at most a cohort)")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="length of the idle CPU baseline")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after seeding, for its events to drain")
    parser.add_argument("--json", help="also write the figures here (JSON)")
    args = parser.parse_args()
    if args.quick:
        args.grab_candidates, args.grab_seats, args.throughput_candidates = 400, 20, 300
        args.logins, args.mix, args.open_seconds, args.pgbench_seconds, args.idle_seconds = 24, 300, 2.0, 3, 3.0
    started = datetime.now(UTC)
    results = asyncio.run(Bench(args).run())
    print_report(results, args=args, started=started)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"steps": [s.__dict__ | {"ok_ids": None} for s in results["steps"]], "pgbench": results["pgbench"], "idle": results["idle"]},
                default=str,
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
