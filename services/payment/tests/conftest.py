"""Payment tests run against a real PostgreSQL (a throw-away database per test session) and the
gateway sandbox in-process: the service reaches the sandbox, and the sandbox's notifications
reach the service, through httpx's ASGI transport — configuration only, as in production."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from cet_shared.admin import ServiceAdmin
from cet_shared.clock import ManualClock
from cet_shared.db.tables import outbox
from cet_shared.events.contracts import RegistrationBound, RegistrationSnapshot, SubjectEnrolled
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.pytest_plugin import discard
from cet_shared.testing import TestTokens
from payment.api.app import create_app
from payment.bootstrap import PaymentContainer, bootstrap, build_gateways
from payment.cli import ADMIN
from payment.events.consumers import build_consumers
from payment.sandbox.app import build_state, create_app as create_sandbox_app
from payment.sandbox.keys import ALIPAY_PUBLIC, APP_PRIVATE, PAYEASE_KEY, ensure_merchant_keys
from payment.sandbox.settings import SandboxSettings
from payment.sandbox.state import SandboxState
from payment.settings import PaymentSettings

SANDBOX = "http://sandbox.test"
PAYMENT = "http://payment.test"


class Forward(httpx.AsyncBaseTransport):
    """An ASGI transport whose app is set later (the service and the sandbox call each other)."""

    def __init__(self) -> None:
        self.inner: ASGITransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.inner is not None
        return await self.inner.handle_async_request(request)


@pytest.fixture(scope="session")
def service_admin() -> ServiceAdmin:
    """Which service `database_url` (cet_shared.pytest_plugin) migrates."""
    return ADMIN


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("payment-keys")
    ensure_merchant_keys(directory)
    return directory


def sandbox_settings(key_dir: Path, **overrides) -> SandboxSettings:
    values = dict(
        key_dir=str(key_dir),
        public_base_url=SANDBOX,
        payease_notify_url=f"{PAYMENT}/notify/payease",
        time_scale=0.0002,
        duplicate_rate=0.0,
        seed=7,
    )
    return SandboxSettings(**(values | overrides))


@pytest.fixture
def sandbox_overrides() -> dict:
    return {}


@dataclass
class World:
    ctx: PaymentContainer
    sandbox: SandboxState
    api: AsyncClient  # the payment service
    gw: AsyncClient  # the sandbox, as a browser sees it
    tokens: TestTokens
    to_sandbox: Forward | None = None
    to_payment: Forward | None = None

    async def restart_sandbox(self) -> SandboxState:
        """The sandbox process stops (its memory goes) and starts again with the same key
        directory; payment restarts after it, reading the new Alipay public key."""
        await self.sandbox.close()
        settings = self.sandbox.settings
        self.sandbox = build_state(settings, notify_transport=self.to_payment)
        sandbox_app = create_sandbox_app(state=self.sandbox)
        sandbox_app.state.sandbox = self.sandbox  # what its lifespan does
        self.to_sandbox.inner = ASGITransport(app=sandbox_app)
        self.gw = AsyncClient(transport=ASGITransport(app=sandbox_app), base_url=SANDBOX)
        self.ctx.gateways = build_gateways(self.ctx.settings, self.ctx.http, self.ctx.clock)
        return self.sandbox

    def headers(self, passport_id: str, *roles: str) -> dict[str, str]:
        return self.tokens.headers(passport_id, *(roles or ("candidate",)))

    async def feed(self, event: Event, key: str) -> None:
        """Deliver an event as the worker's consumer would (inbox and all)."""
        envelope = EventEnvelope.wrap(event, key=key, producer="test")
        await build_consumers(self.ctx)[0].dispatch(envelope.model_dump_json().encode(), topic=event.topic)

    async def registration(self, passport_id: str | None = None, *, fees: tuple[int, ...] = (1, 1), expires_in: timedelta = timedelta(hours=24)):
        passport_id = passport_id or uuid.uuid4().hex.upper()
        registration_id = uuid.uuid4()
        await self.feed(
            RegistrationBound(
                registration_id=registration_id,
                exam_session_id=uuid.uuid4(),
                passport_id=passport_id,
                snapshot=RegistrationSnapshot(
                    name="廖晓儿",
                    gender="女",
                    id_type="resident_id_card",
                    id_number="110105200001011234",
                    province_code="99",
                    school_code="99301",
                    school_name="测试学校机构01",
                    campus_code="993010",
                    campus_name="测试校区机构001",
                    qualification_subjects=["1", "4"],
                ),
                bound_at=self.ctx.clock.now(),
            ),
            key=str(registration_id),
        )
        subjects = [("1", "英语四级笔试"), ("4", "日语六级笔试"), ("F", "英语四级口试")]
        enrolment_ids = []
        for (code, name), fee in zip(subjects, fees, strict=False):  # fewer fees: fewer subjects
            enrolment_id = uuid.uuid4()
            await self.feed(
                SubjectEnrolled(
                    enrolment_id=enrolment_id,
                    registration_id=registration_id,
                    passport_id=passport_id,
                    subject_code=code,
                    subject_name=name,
                    campus_code="993010",
                    fee_fen=fee,
                    expires_at=self.ctx.clock.now() + expires_in,
                ),
                key=str(registration_id),
            )
            enrolment_ids.append(enrolment_id)
        return passport_id, registration_id, enrolment_ids

    async def order(self, passport_id: str, enrolment_ids: list[uuid.UUID]) -> dict:
        response = await self.api.post("/orders", json={"enrolment_ids": [str(e) for e in enrolment_ids]}, headers=self.headers(passport_id))
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def checkout(self, passport_id: str, order_id: str, gateway: str = "alipay", bank: str | None = None) -> dict:
        response = await self.api.post(f"/orders/{order_id}/checkout", json={"gateway": gateway, "bank": bank}, headers=self.headers(passport_id))
        assert response.status_code == 200, response.text
        return response.json()

    async def open_gateway_page(self, checkout: dict) -> str:
        """What the browser does with the redirect: submit the form to the gateway."""
        redirect = checkout["redirect"]
        url = urlsplit(redirect["url"])
        # The portal's form carries accept-charset: PayEase's fields travel in GBK.
        content = urlencode(redirect["fields"], encoding=redirect["charset"]).encode("ascii")
        target = url.path + ("?" + url.query if url.query else "")
        response = await self.gw.post(target, content=content, headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200, response.text
        return response.text

    async def pay(self, checkout: dict, *, notify: bool = True) -> str:
        """Open the gateway page and press 确认付款 (or pay with every notification lost)."""
        page = await self.open_gateway_page(checkout)
        assert "确认付款" in page, page
        out_trade_no = self.out_trade_no(checkout)
        if notify:
            path = "/alipay/pay" if checkout["gateway"] == "alipay" else "/payease/pay"
            response = await self.gw.post(path, data={"out_trade_no": out_trade_no})
            assert response.status_code == 200 and ("付款成功" in response.text or "支付完成" in response.text), response.text
        else:
            response = await self.gw.post(f"/sandbox/trades/{out_trade_no}/pay", params={"notify": "false"})
            assert response.json()["status"] == "TRADE_SUCCESS"
        return out_trade_no

    @staticmethod
    def out_trade_no(checkout: dict) -> str:
        fields = checkout["redirect"]["fields"]
        if checkout["gateway"] == "payease":
            return fields["v_oid"]
        return json.loads(fields["biz_content"])["out_trade_no"]

    async def wait_delivered(self, out_trade_no: str, count: int = 1, timeout: float = 10.0) -> list:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = [d for d in self.sandbox.deliveries if d.out_trade_no == out_trade_no]
            if len(found) >= count:
                return found
            assert asyncio.get_running_loop().time() < deadline, f"no notification for {out_trade_no}: {self.sandbox.deliveries}"
            await asyncio.sleep(0.02)

    async def scalar(self, statement):
        async with self.ctx.sessions() as session:
            return await session.scalar(statement)

    async def count(self, table) -> int:
        return await self.scalar(select(func.count()).select_from(table))

    @staticmethod
    def form(body: bytes, charset: str = "utf-8") -> dict[str, str]:
        return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding=charset))

    async def events(self, event_type: str) -> list[dict]:
        async with self.ctx.sessions() as session:
            rows = (await session.execute(select(outbox.c.envelope).where(outbox.c.event_type == event_type).order_by(outbox.c.id))).scalars()
            return [row["payload"] for row in rows]


def payment_settings(database_url: str, key_dir: Path, **overrides) -> PaymentSettings:
    values = dict(
        database_url=database_url,
        environment="test",
        db_pool_size=10,
        notify_base_url=PAYMENT,
        return_url="http://portal.test/registration",
        alipay_gateway_url=f"{SANDBOX}/alipay/gateway.do",
        alipay_app_private_key_file=str(key_dir / APP_PRIVATE),
        alipay_public_key_file=str(key_dir / ALIPAY_PUBLIC),
        payease_pay_url=f"{SANDBOX}/payease/prs/user_payment.checkit",
        payease_api_base_url=f"{SANDBOX}/payease",
        payease_key_file=str(key_dir / PAYEASE_KEY),
        refund_interval=timedelta(milliseconds=100),
    )
    return PaymentSettings(**(values | overrides))


@pytest.fixture
async def world(database_url: str, key_dir: Path, tokens: TestTokens, sandbox_overrides: dict) -> AsyncIterator[World]:
    to_payment, to_sandbox = Forward(), Forward()
    state = build_state(sandbox_settings(key_dir, **sandbox_overrides), notify_transport=to_payment)
    ctx = bootstrap(payment_settings(database_url, key_dir), clock=ManualClock(datetime.now(UTC)), http_transport=to_sandbox)
    app, sandbox_app = create_app(ctx, token_verifier=tokens.verifier()), create_sandbox_app(state=state)
    async with LifespanManager(app), LifespanManager(sandbox_app):
        to_payment.inner, to_sandbox.inner = ASGITransport(app=app), ASGITransport(app=sandbox_app)
        async with (
            AsyncClient(transport=ASGITransport(app=app), base_url=PAYMENT) as api,
            AsyncClient(transport=ASGITransport(app=sandbox_app), base_url=SANDBOX) as gw,
        ):
            world = World(ctx, state, api, gw, tokens, to_sandbox, to_payment)
            yield world
            await world.gw.aclose()
    await world.sandbox.close()
    await discard(ctx)
