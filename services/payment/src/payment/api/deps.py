from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cet_shared.auth import Principal, require_role
from cet_shared.clock import Clock
from payment.bootstrap import PaymentContainer
from payment.service.ports import Gateways, PaymentUnitOfWork
from payment.settings import PaymentSettings


def get_payment(request: Request) -> PaymentContainer:
    return request.app.state.payment


PaymentDep = Annotated[PaymentContainer, Depends(get_payment)]


# What the use cases receive: a unit of work of the request's own, the clock, the settings, the gateways.
def get_unit_of_work(container: PaymentDep) -> PaymentUnitOfWork:
    return container.unit_of_work()


def get_clock(container: PaymentDep) -> Clock:
    return container.clock


def get_settings(container: PaymentDep) -> PaymentSettings:
    return container.settings


def get_gateways(container: PaymentDep) -> Gateways:
    return container.gateways


UnitOfWorkDep = Annotated[PaymentUnitOfWork, Depends(get_unit_of_work)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[PaymentSettings, Depends(get_settings)]
GatewaysDep = Annotated[Gateways, Depends(get_gateways)]

Candidate = Annotated[Principal, require_role("candidate")]
CandidateOrSupport = Annotated[Principal, require_role("candidate", "support")]
Support = Annotated[Principal, require_role("support")]
