"""The composition root: everything payment needs, wired once (by the api lifespan, the worker,
the CLI, or a test with its own database, clock and in-process sandbox)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cet_shared.clock import Clock, SystemClock
from cet_shared.db import create_engine, create_session_factory
from payment.db.unit_of_work import SqlPaymentUnitOfWork
from payment.gateways.alipay import AlipayAdapter
from payment.gateways.base import GatewayAdapter
from payment.gateways.payease import PayEaseAdapter
from payment.gateways.signing import load_private_key, load_public_key
from payment.settings import PaymentSettings


@dataclass
class PaymentContainer:
    settings: PaymentSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    http: httpx.AsyncClient
    gateways: dict[str, GatewayAdapter]

    def unit_of_work(self) -> SqlPaymentUnitOfWork:
        return SqlPaymentUnitOfWork(self.sessions, producer="payment")

    def gateway(self, name: str) -> GatewayAdapter:
        return self.gateways[name]

    async def close(self) -> None:
        await self.http.aclose()
        await self.engine.dispose()


def build_gateways(settings: PaymentSettings, http: httpx.AsyncClient, clock: Clock) -> dict[str, GatewayAdapter]:
    notify = settings.notify_base_url.rstrip("/")
    return {
        "alipay": AlipayAdapter(
            http,
            gateway_url=settings.alipay_gateway_url,
            app_id=settings.alipay_app_id,
            seller_id=settings.alipay_seller_id,
            app_private_key=load_private_key(settings.alipay_app_private_key_file),
            alipay_public_key=load_public_key(settings.alipay_public_key_file),
            notify_url=f"{notify}/notify/alipay",
            return_url=settings.return_url,
            clock=clock,
        ),
        "payease": PayEaseAdapter(
            http,
            pay_url=settings.payease_pay_url,
            api_base_url=settings.payease_api_base_url,
            merchant_id=settings.payease_merchant_id,
            key=Path(settings.payease_key_file).read_text().strip(),
            public_key=load_public_key(settings.payease_public_key_path()),
            return_url=settings.return_url,
            charset=settings.payease_charset,
        ),
    }


def bootstrap(
    settings: PaymentSettings | None = None, *, clock: Clock | None = None, http_transport: httpx.AsyncBaseTransport | None = None
) -> PaymentContainer:
    """`http_transport` lets a test route gateway calls to an in-process sandbox; in production
    the gateways are reached over the network at the configured URLs."""
    settings = settings or PaymentSettings()
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, application_name="payment")
    http = httpx.AsyncClient(timeout=settings.gateway_timeout.total_seconds(), transport=http_transport)
    return PaymentContainer(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        clock=clock,
        http=http,
        gateways=build_gateways(settings, http, clock),
    )
