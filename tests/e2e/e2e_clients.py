"""Clients of the e2e stack: users at the gateway, staff accounts, exam sessions."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
from cet_stack import BIN, Stack

from cet_shared.events.contracts import ExamSessionPublished
from cet_shared.events.envelope import EventEnvelope
from cet_shared.testing import wait_for

PASSWORD = "Journey-2017!"


def staff_account(stack: Stack, email: str, *roles: str, school: str | None = None) -> str:
    env = {**stack.base_env(), "STAFF_PASSWORD": PASSWORD}
    argv = [str(BIN / "passport-admin"), "create-staff", "--email", email, "--password-env", "STAFF_PASSWORD"]
    for role in roles:
        argv += ["--role", role]
    if school:
        argv += ["--school", school]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"create-staff {email}: {out.stderr}")
    return out.stdout.strip()


# Staff log in with a TOTP code (issue 15): the seed each enrolled with, and its recovery codes.
_SECOND_FACTORS: dict[str, tuple[str, list[str], set[int]]] = {}


async def staff_log_in(client: httpx.AsyncClient, stack: Stack, email: str, password: str) -> httpx.Response:
    """The console's two steps: the password, then a code (enrolling the first time); a second
    log-in within the same 30 s spends a recovery code, since a code works once."""
    import pyotp

    began = await client.post("/api/passport/staff/sessions", json={"email": email, "password": password, **stack.captcha()})
    assert began.status_code == 200, began.text
    challenge = began.json()
    if challenge["second_factor"] == "enrol":
        _SECOND_FACTORS[email] = (challenge["secret"], [], set())
    secret, recovery, used_steps = _SECOND_FACTORS[email]
    totp = pyotp.TOTP(secret)
    step = totp.timecode(datetime.now(UTC))
    if step in used_steps and recovery:
        proof = {"recovery_code": recovery.pop()}
    else:
        used_steps.add(step)
        proof = {"code": totp.generate_otp(step)}
    done = await client.post("/api/passport/staff/sessions/second-factor", json={"challenge": challenge["challenge"], **proof})
    if done.status_code == 200 and done.json().get("recovery_codes"):
        recovery.extend(done.json()["recovery_codes"])
    return done


class User:
    """A browser session at the gateway: logs in through it and keeps the access token."""

    def __init__(self, stack: Stack, email: str, password: str = PASSWORD) -> None:
        self.stack, self.email, self.password = stack, email, password
        self.client = httpx.AsyncClient(base_url=stack.gateway, timeout=30.0)
        self.passport_id: str | None = None

    async def log_in(self) -> User:
        response = await self.client.post("/api/passport/sessions", json={"email": self.email, "password": self.password, **self.stack.captcha()})
        if response.status_code == 403 and response.json().get("code") == "second_factor_required":
            response = await staff_log_in(self.client, self.stack, self.email, self.password)
        assert response.status_code == 200, response.text
        body = response.json()
        self.passport_id = body["passport_id"]
        self.client.headers["authorization"] = f"Bearer {body['access_token']}"
        return self

    async def get(self, path: str, **kw) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def post(self, path: str, **kw) -> httpx.Response:
        return await self.client.post(path, **kw)

    async def put(self, path: str, **kw) -> httpx.Response:
        return await self.client.put(path, **kw)

    async def delete(self, path: str, **kw) -> httpx.Response:
        return await self.client.delete(path, **kw)

    async def close(self) -> None:
        await self.client.aclose()


async def register(stack: Stack, email: str | None = None, password: str = PASSWORD) -> User:
    """P1 through the gateway: register (captcha), then log in."""
    email = email or f"cand-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30.0) as client:
        response = await client.post("/api/passport/accounts", json={"email": email, "password": password, "confirm_password": password, **stack.captcha()})
    assert response.status_code == 202, response.text
    return await User(stack, email, password).log_in()


class Sessions:
    """Exam sessions of the run: through enrolment's ops API when enrolment runs; before that,
    ExamSessionPublished straight onto the run's Kafka, as enrolment would send it."""

    def __init__(self, stack: Stack, ops: User) -> None:
        self.stack, self.ops = stack, ops

    async def publish(self, name: str, opens_at: datetime, closes_at: datetime) -> uuid.UUID:
        session_id = uuid.uuid4()
        if "enrolment" in self.stack.services:
            spec = demo_session_spec(session_id, name, opens_at, closes_at)
            response = await self.ops.post("/api/enrolment/ops/sessions", json=spec)
            assert response.status_code == 201, response.text
            response = await self.ops.post(f"/api/enrolment/ops/sessions/{session_id}/publication")
            assert response.status_code == 200, response.text
            return session_id
        from aiokafka import AIOKafkaProducer

        event = ExamSessionPublished(exam_session_id=session_id, name=name, registration_opens_at=opens_at, registration_closes_at=closes_at)
        envelope = EventEnvelope.wrap(event, key=str(session_id), producer="enrolment")
        producer = AIOKafkaProducer(bootstrap_servers=self.stack.kafka.bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(
                self.stack.topic_prefix + event.topic, json.dumps(envelope.model_dump(mode="json")).encode(), key=str(session_id).encode()
            )
        finally:
            await producer.stop()
        return session_id


def demo_session_spec(session_id: uuid.UUID, name: str, opens_at: datetime, closes_at: datetime) -> dict:
    """enrolment's demo session document with this run's id, name and window."""
    import yaml

    from enrolment.cli import DEMO_SESSION
    from enrolment.service.session_specs import resolve_relative

    document = yaml.safe_load(DEMO_SESSION.read_text(encoding="utf-8"))
    document = resolve_relative(document, datetime.now(UTC))
    document.update(id=str(session_id), name=name, registration={"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()})
    return document


# cet_shared.testing.wait_for with the stack's pace: effects cross processes and a broker
wait_until = functools.partial(wait_for, timeout=30.0, interval=0.2)


class Crowd:
    """Many candidates at once, for the drills: tokens signed with the run's own key (what
    passport would issue after a log-in), one shared connection pool to the gateway."""

    def __init__(self, stack: Stack, size: int) -> None:
        from datetime import timedelta

        from cet_shared.tokens import TokenSigner

        signer = TokenSigner.from_pem_file(stack.root / "jwt-ed25519.pem", issuer="cet-passport", audience="cet-suite", lifetime=timedelta(hours=1))
        now = datetime.now(UTC)
        self.passport_ids = [uuid.uuid4().hex.upper() for _ in range(size)]
        self.tokens = [signer.issue(passport_id=p, roles=["candidate"], token_version=0, school_code=None, now=now) for p in self.passport_ids]
        self.client = httpx.AsyncClient(base_url=stack.gateway, timeout=60.0, limits=httpx.Limits(max_connections=250, max_keepalive_connections=250))
        self._gate = asyncio.Semaphore(40)

    async def request(self, i: int, method: str, path: str, *, gate: bool = True, **kw) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.tokens[i]}"}
        if not gate:
            return await self.client.request(method, path, headers=headers, **kw)
        async with self._gate:
            return await self.client.request(method, path, headers=headers, **kw)

    async def all(self, method: str, path_or_fn, body_fn=None, *, gate: bool = True) -> list[httpx.Response]:
        async def one(i: int) -> httpx.Response:
            path = path_or_fn(i) if callable(path_or_fn) else path_or_fn
            kw = {"json": body_fn(i)} if body_fn else {}
            return await self.request(i, method, path, gate=gate, **kw)

        return await asyncio.gather(*(one(i) for i in range(len(self.tokens))))

    async def close(self) -> None:
        await self.client.aclose()


def resident_id(region: str, index: int) -> str:
    """A fictional resident ID number with a valid GB 11643 check character."""
    body = f"{region}2001{1 + index // 900 % 12:02d}{1 + index // 9 % 28:02d}{index % 900 + 100:03d}"[:17]
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def registry_csv(school: str, count: int, subjects: str = "1;F") -> tuple[str, list[dict]]:
    """A school of `count` fictional students in the test province: the CSV and their identities."""
    header = (
        "province_code,province_name,school_code,school_name,campus_code,campus_name,campus_offers_cet6,id_type,id_number,name,gender,"
        "education_level,program_years,entry_year,grade,department,major,class,student_number,remarks,qualification_subjects,cet6_barred"
    )
    rows, identities = [header], []
    for i in range(count):
        number = resident_id("99" + school[2:5] + "0", i)
        name = f"演练{school[2:]}{i:03d}"
        rows.append(
            f"99,测试省,{school},演练学校{school},{school}0,演练校区{school},是,中华人民共和国居民身份证,{number},{name},男,本科,4,16,01,"
            f"演练学院,演练专业,1,{i:05d},,{subjects},否"
        )
        identities.append({"id_type": "resident_id_card", "id_number": number, "name": name})
    return "\n".join(rows) + "\n", identities


async def registration_page(user: User) -> dict:
    response = await user.get("/api/enrolment/me/registration")
    assert response.status_code == 200, response.text
    return response.json()


async def pay_in_the_sandbox(stack: Stack, checkout: dict) -> str:
    """The browser's part: the portal auto-submits the form to the payment platform, the candidate
    confirms on its page. Returns our order number as the platform knows it."""
    redirect = checkout["redirect"]
    charset = redirect["charset"] or "utf-8"
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.post(
            redirect["url"],
            content=urlencode(redirect["fields"], encoding=charset),
            headers={"content-type": f"application/x-www-form-urlencoded; charset={charset}"},
        )
        assert page.status_code == 200 and "确认付款" in page.text, page.text
        out_trade_no = re.search(r'name="out_trade_no" value="([^"]+)"', page.text).group(1)
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        paid = await browser.post(stack.url("sandbox") + action, data={"out_trade_no": out_trade_no})
        assert paid.status_code == 200 and ("付款成功" in paid.text or "支付完成" in paid.text), paid.text
    return out_trade_no


async def school_campus(ops: User, session_id: uuid.UUID, school: str, count: int, oral_capacity: int | None) -> tuple[list[dict], str | None]:
    """`count` students of a new school in the registry and a campus for it in the open session
    (written 英语四级, and oral F with `oral_capacity` seats unless None). Returns the students and
    the oral offering id (None without one)."""
    csv, identities = registry_csv(school, count, subjects="1" if oral_capacity is None else "1;F")
    imported = await ops.post("/api/eligibility/registry/students", content=csv.encode(), headers={"content-type": "text/csv"})
    assert imported.status_code == 200, imported.text
    now = datetime.now(UTC)
    offerings: list[dict] = [{"subject": "1", "fee_fen": 1}]
    if oral_capacity is not None:
        offerings.append(
            {
                "subject": "F",
                "fee_fen": 1,
                "capacity": oral_capacity,
                "opens_at": (now - timedelta(hours=1)).isoformat(),
                "closes_at": (now + timedelta(days=1)).isoformat(),
            }
        )
    campus = {
        "province_code": "99",
        "school_code": school,
        "school_name": f"演练学校{school}",
        "campus_code": f"{school}0",
        "campus_name": f"演练校区{school}",
        "accepts_other_schools": False,
        "offerings": offerings,
    }
    added = await ops.post(f"/api/enrolment/ops/sessions/{session_id}/campuses", json=campus)
    assert added.status_code == 201, added.text
    return identities, added.json()["offering_ids"][1] if oral_capacity is not None else None
