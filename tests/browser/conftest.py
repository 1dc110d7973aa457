"""Browser tests: the portal and the console in Debian's headless Chromium, through the gateway.

The stack is the one every suite-wide test starts (tests/harness/cet_stack.py, `start_stack`):
throw-away databases on the real PostgreSQL (PG_ADMIN_URL), a Kafka broker of its own, every
service's api and worker as its own processes on free ports, the payment sandbox, the mail sink
and the gateway's own nginx config (deploy/gateway/render.py) on a free port serving the portal.
Here it lives for this package only, with its logs in screenshots/_logs. Seed data goes in the
ways operations put it in: the admin CLIs (staff accounts, the student registry and scores, the
exam session). Nothing here skips: missing infrastructure fails with what to start.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cet_stack import BIN, REPO, Stack, start_stack
from faults import Faults

HERE = Path(__file__).resolve().parent
SHOTS = HERE / "screenshots"
LOGS = SHOTS / "_logs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STAFF_PASSWORD = "Staff-Pa55word!"
# What this package needs of the stack beyond the harness's defaults: one payment notification
# each (no duplicates), and generous limits at the gateway for the recovery pages.
ENV_OVERRIDES = {"SANDBOX_DUPLICATE_RATE": "0"}
GATEWAY_OVERRIDES = {
    "CET_GW_RATE_PASSWORD_RECOVERY": "200r/s",
    "CET_GW_BURST_PASSWORD_RECOVERY": "10",
    "CET_GW_RATE_ACCOUNT_RECOVERY": "200r/s",
}


@dataclass
class Portal:
    """The harness's Stack, with what browser tests do beside the browser: the admin CLIs, tokens
    signed with the run's passport key, API calls through the gateway, the mail sink."""

    stack: Stack

    @property
    def base_url(self) -> str:
        return self.stack.gateway

    @property
    def ports(self) -> dict[str, int]:
        return self.stack.ports

    def run_cli(self, *command: str, stdin: str | None = None, extra: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [str(BIN / command[0]), *command[1:]],
            env={**self.stack.base_env(), **(extra or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def token(self, passport_id: str, *roles: str, school_code: str | None = None) -> str:
        """An access token signed with passport's key of this run, for seeding through the APIs."""
        from cet_shared.tokens import TokenSigner

        signer = TokenSigner.from_pem_file(self.stack.root / "jwt-ed25519.pem", issuer="cet-passport", audience="cet-suite", lifetime=timedelta(minutes=30))
        return signer.issue(passport_id=passport_id, roles=list(roles), token_version=0, school_code=school_code, now=datetime.now(UTC))

    def api(self, method: str, path: str, *, token: str, **kwargs) -> httpx.Response:
        with httpx.Client(base_url=self.base_url, timeout=20) as client:
            return client.request(method, "/api" + path, headers={"authorization": f"Bearer {token}", **kwargs.pop("headers", {})}, **kwargs)

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
            for path in sorted(self.stack.mailbox.folder.glob("*.eml"), reverse=True):
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

        png = ImageCaptcha(width=160, height=60).generate(answer, format="png").getvalue()
        token = self.stack.captcha(answer)["captcha_token"]
        return {"captcha_token": token, "image": "data:image/png;base64," + base64.b64encode(png).decode(), "expires_in": 300}


SESSION_DOC = HERE / "data" / "session.json"
STUDENTS_CSV = HERE / "data" / "students.csv"
SCORES_CSV = HERE / "data" / "scores.csv"


# Package scope: the stack stops once the browser tests are done, not at the end of `make test`.
@pytest.fixture(scope="package")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Portal]:
    shutil.rmtree(LOGS, ignore_errors=True)  # the logs of the last run only
    async with start_stack(
        tmp_path_factory.mktemp("stack"), name="browser", logs=LOGS, env_overrides=ENV_OVERRIDES, gateway_overrides=GATEWAY_OVERRIDES
    ) as core:
        portal = Portal(core)
        _seed(portal)
        yield portal


STAFF = {
    "teacher": ("teacher@99301.test", ["--role", "teacher", "--school", "99301"]),
    "support": ("support@cet.test", ["--role", "support"]),
    "ops": ("ops@cet.test", ["--role", "ops"]),
}


def _seed(stack: Portal) -> None:
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

    def __init__(self, page, folder: Path) -> None:
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
    stack: Portal
    faults: Faults

    def expect_failure(self, path: str, status: int) -> None:
        """A test that provokes a refusal names it here; any other fault fails the test."""
        self.faults.expected.append((path, status))

    async def known_captcha(self, answer: str = "CET4") -> str:
        """Answer the next captchas with a known answer: the test seals its own challenge."""

        async def fulfil(route) -> None:
            await route.fulfill(json=self.stack.sealed_captcha(answer))

        await self.page.route("**/api/passport/captcha", fulfil)
        return answer

    async def register(self, email: str, password: str) -> None:
        """注册新用户 through the portal's form, as the guide shows it."""
        from playwright.async_api import expect

        page = self.page
        answer = await self.known_captcha()
        await page.goto("/register")
        await page.get_by_label("电子邮箱").fill(email)
        await page.get_by_label("密码", exact=True).fill(password)
        await page.get_by_label("确认密码").fill(password)
        await page.get_by_label("验证码").fill(answer)
        await page.get_by_role("button", name="提交").click()
        await expect(page.locator("main").get_by_role("status")).to_contain_text("注册成功")

    async def log_in(self, email: str, password: str) -> None:
        """考生登录, ending on the start page."""
        from playwright.async_api import expect

        page = self.page
        answer = await self.known_captcha()
        await page.goto("/login")
        await page.get_by_label("账号").fill(email)
        await page.get_by_label("密码").fill(password)
        await page.get_by_label("验证码").fill(answer)
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page.get_by_role("heading", name="欢迎登录CET考试报名系统")).to_be_visible()


async def _new_visit(browser, stack: Portal, name: str, *, mobile: bool = False, timezone_id: str = "Asia/Shanghai") -> Visit:
    options = {"locale": "zh-CN", "timezone_id": timezone_id, "base_url": stack.base_url}
    if mobile:
        options |= {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    else:
        options |= {"viewport": {"width": 1280, "height": 900}}
    context = await browser.new_context(**options)
    context.set_default_timeout(15_000)
    faults = Faults(stack.base_url, own=(stack.base_url, "data:", f"http://127.0.0.1:{stack.ports['sandbox']}"))
    await faults.watch(context)
    page = await context.new_page()
    return Visit(page=page, shot=Shots(page, SHOTS / name), stack=stack, faults=faults)


@pytest.fixture
async def visit(browser, stack: Portal, request: pytest.FixtureRequest) -> AsyncIterator:
    """A factory of fresh browser contexts (one per user in the test); screenshots per test."""
    made: list[Visit] = []

    async def make(user: str = "candidate", *, mobile: bool = False, timezone_id: str = "Asia/Shanghai") -> Visit:
        v = await _new_visit(browser, stack, f"{request.node.name}/{user}", mobile=mobile, timezone_id=timezone_id)
        made.append(v)
        return v

    yield make
    for v in made:
        await v.page.context.close()
    unexpected = [f"{v.shot.folder.name}: {fault}" for v in made for fault in v.faults.unexpected()]
    assert not unexpected, "the portal met faults nobody expected:\n" + "\n".join(unexpected)
