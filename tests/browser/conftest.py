"""Browser tests: the portal and the console in Debian's headless Chromium, through the gateway.

One stack per test session, private to this run: throw-away databases on the real PostgreSQL
(PG_ADMIN_URL), the real Kafka with a topic prefix of its own, every service's api and worker as
its own process on free ports, the payment sandbox, and the gateway's own nginx config
(deploy/gateway/render.py) on a free port serving the portal. Seed data goes in the ways
operations put it in: the admin CLIs (staff accounts, the student registry and scores, the exam
session). Nothing here skips: missing infrastructure fails with what to start.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SHOTS = HERE / "screenshots"
LOGS = SHOTS / "_logs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
CAPTCHA_SECRET = "browser-tests-only-captcha-secret-" + uuid.uuid4().hex
STAFF_PASSWORD = "Staff-Pa55word!"
SERVICES = ("passport", "eligibility", "enrolment", "payment")


def _environment() -> dict[str, str]:
    """The process environment, completed from .local/env (what `make test` sources)."""
    env = dict(os.environ)
    local = REPO / ".local" / "env"
    if local.is_file():
        for line in local.read_text().splitlines():
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                name, _, value = line[7:].partition("=")
                env.setdefault(name, value.strip().strip("'\""))
    for name in ("PG_ADMIN_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        if not env.get(name):
            pytest.fail(f"{name} is not set: start the infrastructure with `make infra-up` (it writes .local/env) or run `make test`")
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    for folder in (REPO / ".venv" / "bin", Path(sys.executable).parent):
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: run `uv sync --all-packages` first")
    return found


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def _admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    ports: dict[str, int]
    key_file: Path
    maildir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def run_cli(self, *command: str, stdin: str | None = None, extra: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [_bin(command[0]), *command[1:]], env={**self.env, **(extra or {})}, input=stdin, capture_output=True, text=True, timeout=120, cwd=REPO
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def token(self, passport_id: str, *roles: str, school_code: str | None = None) -> str:
        """An access token signed with passport's key of this run, for seeding through the APIs."""
        from cet_shared.tokens import TokenSigner

        signer = TokenSigner.from_pem_file(self.key_file, issuer="cet-passport", audience="cet-suite", lifetime=timedelta(minutes=30))
        return signer.issue(passport_id=passport_id, roles=list(roles), token_version=0, school_code=school_code, now=datetime.now(timezone.utc))

    def api(self, method: str, path: str, *, token: str, **kwargs) -> httpx.Response:  # noqa: ANN003
        with httpx.Client(base_url=self.base_url, timeout=20) as client:
            return client.request(method, "/api" + path, headers={"authorization": f"Bearer {token}"}, **kwargs)

    def bind_candidate(self, id_type: str, id_number: str, name: str) -> tuple[str, str]:
        """A candidate who did E2-E6 through the APIs (another account, for the other side of a test).
        Returns (passport id, token) once enrolment has the registration."""
        passport_id = uuid.uuid4().hex.upper()
        token = self.token(passport_id, "candidate")
        version = self.api("GET", "/eligibility/agreement", token=token).json()["version"]
        assert self.api("POST", "/eligibility/agreement", token=token, json={"version": version, "accepted": True}).status_code == 200
        saved = self.api("POST", "/eligibility/registrations", token=token, json={"id_type": id_type, "id_number": id_number, "name": name, "confirmed": True})
        assert saved.status_code == 200, saved.text
        deadline = time.monotonic() + 30
        while self.api("GET", "/enrolment/me/registration", token=token).status_code != 200:
            assert time.monotonic() < deadline, "enrolment never received RegistrationBound"
            time.sleep(0.2)
        return passport_id, token

    def mail_to(self, address: str, subject_contains: str, timeout: float = 30) -> str:
        """The text of the newest message to `address` whose subject contains the words."""
        import email
        from email import policy

        deadline = time.monotonic() + timeout
        while True:
            for path in sorted(self.maildir.glob("*.eml"), reverse=True):
                message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                if address in str(message.get("X-Envelope-To", "")) and subject_contains in str(message.get("Subject", "")):
                    body = message.get_body(preferencelist=("plain", "html"))
                    return body.get_content() if body else ""
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail '{subject_contains}' to {address} within {timeout}s")
            time.sleep(0.2)

    def sealed_captcha(self, answer: str = "CET4") -> dict:
        """A captcha whose answer the test knows: sealed with the secret the services share (P3)."""
        import base64

        from captcha.image import ImageCaptcha

        from cet_shared.captcha import CaptchaSeal
        from cet_shared.clock import SystemClock

        token = CaptchaSeal(CAPTCHA_SECRET).seal(answer, clock=SystemClock(), ttl=timedelta(minutes=5))
        png = ImageCaptcha(width=160, height=60).generate(answer, format="png").getvalue()
        return {"captcha_token": token, "image": "data:image/png;base64," + base64.b64encode(png).decode(), "expires_in": 300}


def _wait_http(url: str, name: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}; log {log}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{name} did not answer {url} within {timeout}s; log {log}:\n{log.read_text()[-3000:]}")


SESSION_DOC = HERE / "data" / "session.json"
STUDENTS_CSV = HERE / "data" / "students.csv"
SCORES_CSV = HERE / "data" / "scores.csv"


# Package scope: the stack stops once the browser tests are done, not at the end of `make test`.
@pytest.fixture(scope="package")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    base_env = _environment()
    LOGS.mkdir(parents=True, exist_ok=True)
    work = tmp_path_factory.mktemp("stack")
    admin_url = base_env["PG_ADMIN_URL"]
    run_id = uuid.uuid4().hex[:8]
    databases = {svc: f"test_browser_{svc}_{run_id}" for svc in SERVICES}
    for name in databases.values():
        await _admin(admin_url, f'CREATE DATABASE "{name}"')

    key_file = work / "jwt-ed25519.pem"
    key_file.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pay_keys = work / "payment-keys"
    ports = {name: _free_port() for name in ("gateway", "passport", "eligibility", "enrolment", "payment", "sandbox", "smtp")}
    maildir = work / "mail"
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    sandbox = f"http://127.0.0.1:{ports['sandbox']}"
    env = {
        **{k: v for k, v in base_env.items() if not k.startswith("DATABASE_URL_")},
        "CET_ENV": "test",
        "CAPTCHA_SECRET": CAPTCHA_SECRET,
        "JWT_PRIVATE_KEY_FILE": str(key_file),
        "JWKS_URL": f"http://127.0.0.1:{ports['passport']}/.well-known/jwks.json",
        "KAFKA_TOPIC_PREFIX": f"test-browser-{run_id}.",
        "PASSPORT_CAMPUS_BASE_URL": gateway,
        "PASSPORT_PUBLIC_BASE_URL": gateway,
        "PAYMENT_NOTIFY_BASE_URL": f"{gateway}/api/payment",
        "PAYMENT_RETURN_URL": f"{gateway}/registration",
        "ALIPAY_GATEWAY_URL": f"{sandbox}/alipay/gateway.do",
        "PAYEASE_PAY_URL": f"{sandbox}/payease/prs/user_payment.checkit",
        "PAYEASE_API_BASE_URL": f"{sandbox}/payease",
        "ALIPAY_APP_PRIVATE_KEY_FILE": str(pay_keys / "app_private_key.pem"),
        "ALIPAY_PUBLIC_KEY_FILE": str(pay_keys / "alipay_public_key.pem"),
        "PAYEASE_KEY_FILE": str(pay_keys / "payease_key"),
        "SANDBOX_KEY_DIR": str(pay_keys),
        "SANDBOX_PUBLIC_BASE_URL": sandbox,
        "SANDBOX_PAYEASE_NOTIFY_URL": f"{gateway}/api/payment/notify/payease",
        "SANDBOX_TIME_SCALE": "0.001",
        "SANDBOX_DUPLICATE_RATE": "0",
        "PYTHONUNBUFFERED": "1",
        # A mail sink of this run: reset and verification links are read from its folder.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(ports["smtp"]),
        "MAIL_DIR": str(maildir),
    }
    for svc, name in databases.items():
        env[f"DATABASE_URL_{svc.upper()}"] = _with_database(admin_url, name).replace("postgresql://", "postgresql+asyncpg://", 1)

    stack = Stack(base_url=gateway, env=env, ports=ports, key_file=key_file, maildir=maildir)
    try:
        for svc in SERVICES:
            stack.run_cli(f"{svc}-admin", "migrate")
        stack.run_cli("payment-admin", "make-test-keys", "--dir", str(pay_keys))

        def start(name: str, *command: str) -> subprocess.Popen:
            log = LOGS / f"{name}.log"
            process = subprocess.Popen(
                [_bin(command[0]), *command[1:]], env=env, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
            )
            stack.processes[name] = process
            return process

        start("sandbox", "payment-sandbox", "--port", str(ports["sandbox"]))
        log = LOGS / "mailsink.log"
        stack.processes["mailsink"] = subprocess.Popen(
            [_bin("python"), str(REPO / "deploy" / "local" / "mailsink.py"), "--host", "127.0.0.1", "--port", str(ports["smtp"]), "--maildir", str(maildir)],
            env=env, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        for svc in ("passport", "eligibility", "enrolment"):
            start(f"{svc}-api", f"{svc}-api", "--port", str(ports[svc]))
            start(f"{svc}-worker", f"{svc}-worker")
        _wait_http(f"{sandbox}/healthz", "sandbox", stack.processes["sandbox"], LOGS / "sandbox.log")
        # The payment service reads the sandbox's "Alipay" public key, written when the sandbox starts.
        start("payment-api", "payment-api", "--port", str(ports["payment"]))
        start("payment-worker", "payment-worker")

        gw_prefix = work / "gateway"
        spec = importlib.util.spec_from_file_location("cet_gateway_render", REPO / "deploy" / "gateway" / "render.py")
        render = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(render)
        command = render.prepare(gw_prefix, {
            "CET_GW_LISTEN": f"127.0.0.1:{ports['gateway']}",
            "CET_GW_PASSPORT": f"127.0.0.1:{ports['passport']}",
            "CET_GW_ELIGIBILITY": f"127.0.0.1:{ports['eligibility']}",
            "CET_GW_ENROLMENT_SERVERS": f"server 127.0.0.1:{ports['enrolment']};",
            "CET_GW_PAYMENT": f"127.0.0.1:{ports['payment']}",
            "CET_GW_PAYMENT_FORM_ACTION": sandbox,
            "CET_GW_RATE_CAPTCHA": "200r/s", "CET_GW_RATE_LOGIN": "200r/s", "CET_GW_RATE_PASSWORD_RECOVERY": "200r/s",
            "CET_GW_RATE_ACCOUNT_RECOVERY": "200r/s", "CET_GW_RATE_ENROLMENT": "200r/s",
        })
        log = LOGS / "gateway.log"
        stack.processes["gateway"] = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        for svc in ("passport", "eligibility", "enrolment", "payment"):
            _wait_http(f"http://127.0.0.1:{ports[svc]}/healthz", svc, stack.processes[f"{svc}-api"], LOGS / f"{svc}-api.log")
        _wait_http(f"{gateway}/healthz", "gateway", stack.processes["gateway"], log)

        _seed(stack)
        yield stack
    finally:
        for name, process in stack.processes.items():
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in stack.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
        for name in databases.values():
            await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


STAFF = {
    "teacher": ("teacher@99301.test", ["--role", "teacher", "--school", "99301"]),
    "support": ("support@cet.test", ["--role", "support"]),
    "ops": ("ops@cet.test", ["--role", "ops"]),
}


def _seed(stack: Stack) -> None:
    for email, args in STAFF.values():
        stack.run_cli("passport-admin", "create-staff", "--email", email, *args, "--password-env", "STAFF_PASSWORD", extra={"STAFF_PASSWORD": STAFF_PASSWORD})
    stack.run_cli("eligibility-admin", "import-students", str(STUDENTS_CSV))
    stack.run_cli("eligibility-admin", "import-scores", str(SCORES_CSV))
    stack.run_cli("enrolment-admin", "setup", str(SESSION_DOC), "--publish")
    # ExamSessionPublished travels through Kafka to eligibility: wait until its home page knows it.
    token = stack.token(uuid.uuid4().hex.upper(), "candidate")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        home = stack.api("GET", "/eligibility/home", token=token)
        if home.status_code == 200 and home.json().get("window") == "open":
            return
        time.sleep(0.3)
    raise AssertionError(f"eligibility never learnt the published exam session: {home.status_code} {home.text}")


# -- the browser ---------------------------------------------------------------------------------------

@pytest.fixture(scope="package")
async def browser() -> AsyncIterator:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: it belongs in the root dev group (uv add --dev playwright); never `playwright install`")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


class Shots:
    """Saves a screenshot of every page a test visits: screenshots/<test>/<nn>-<name>.png."""

    def __init__(self, page, folder: Path) -> None:  # noqa: ANN001
        self.page = page
        self.folder = folder
        self.count = 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    async def __call__(self, name: str) -> None:
        self.count += 1
        await self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


@dataclass
class Visit:
    page: object
    shot: Shots
    stack: Stack

    async def known_captcha(self, answer: str = "CET4") -> str:
        """Answer the next captchas with a known answer: the test seals its own challenge."""

        async def fulfil(route) -> None:  # noqa: ANN001
            await route.fulfill(json=self.stack.sealed_captcha(answer))

        await self.page.route("**/api/passport/captcha", fulfil)
        return answer


async def _new_visit(browser, stack: Stack, name: str, *, mobile: bool = False) -> Visit:  # noqa: ANN001
    options = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "base_url": stack.base_url}
    if mobile:
        options |= {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    else:
        options |= {"viewport": {"width": 1280, "height": 900}}
    context = await browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    # Nothing the portal loads may come from anywhere but the gateway (no internet at run time).
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((stack.base_url, "data:", f"http://127.0.0.1:{stack.ports['sandbox']}")) else None)
    page._cet_foreign = foreign  # noqa: SLF001 - checked at the end of each test
    return Visit(page=page, shot=Shots(page, SHOTS / name), stack=stack)


@pytest.fixture
async def visit(browser, stack: Stack, request: pytest.FixtureRequest) -> AsyncIterator:  # noqa: ANN001
    """A factory of fresh browser contexts (one per user in the test); screenshots per test."""
    made: list[Visit] = []

    async def make(user: str = "candidate", *, mobile: bool = False) -> Visit:
        v = await _new_visit(browser, stack, f"{request.node.name}/{user}", mobile=mobile)
        made.append(v)
        return v

    yield make
    for v in made:
        assert not v.page._cet_foreign, f"requests outside the gateway: {v.page._cet_foreign}"  # noqa: SLF001
        await v.page.context.close()

