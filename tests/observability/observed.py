"""The observed journey: a short walk through the gateway that touches every figure operators
watch — a log-in failure, a registry import, a binding, a written subject (SubjectEnrolled →
payment's projection), an oral seat, a payment and its gateway notification (sent twice by the
sandbox) — and what it must never leave in a log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cet_stack import REPO, Stack
from e2e_clients import PASSWORD, Sessions, User, pay_in_the_sandbox, wait_until

DEMO = REPO / "deploy/local/demo"
OPS_EMAIL = "ops-observed@example.com"
LI_BO = {"id_type": "macao_id", "id_number": "99101000001", "name": "李博"}
CANDIDATE_PASSWORD = "Observed-2017!pw"
CAPTCHA_ANSWER = "QZ7XK"  # distinctive, so the log check can look for it


@dataclass
class Journey:
    stack: Stack
    traces: Path
    secrets: dict[str, str] = field(default_factory=dict)  # what must never reach a log
    written_enrolment_ids: list[str] = field(default_factory=list)
    oral_enrolment_ids: list[str] = field(default_factory=list)
    refreshed: httpx.Response | None = None  # the Y5 refresh that asked the gateway


async def run_journey(stack: Stack, journey: Journey) -> None:
    ops = await User(stack, OPS_EMAIL).log_in()
    for path, kind in (("/api/eligibility/registry/students", "students.csv"), ("/api/eligibility/registry/scores", "scores.csv")):
        response = await ops.post(path, content=(DEMO / kind).read_bytes(), headers={"content-type": "text/csv"})
        assert response.status_code == 200, response.text
    now = datetime.now(UTC)
    await Sessions(stack, ops).publish("2017年下半年CET考试", now - timedelta(days=1), now + timedelta(days=14))

    email = f"observed-{uuid.uuid4().hex[:8]}@example.com"
    captcha = stack.captcha(CAPTCHA_ANSWER)
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as browser:
        registered = await browser.post(
            "/api/passport/accounts", json={"email": email, "password": CANDIDATE_PASSWORD, "confirm_password": CANDIDATE_PASSWORD, **captcha}
        )
        assert registered.status_code == 202, registered.text
        wrong = await browser.post("/api/passport/sessions", json={"email": email, "password": "Wrong-password-1", **stack.captcha(CAPTCHA_ANSWER)})
        assert wrong.status_code == 401, wrong.text  # a log-in failure for the metrics
    user = User(stack, email, CANDIDATE_PASSWORD)
    logged_in = await user.client.post("/api/passport/sessions", json={"email": email, "password": CANDIDATE_PASSWORD, **stack.captcha(CAPTCHA_ANSWER)})
    assert logged_in.status_code == 200, logged_in.text
    token = logged_in.json()["access_token"]
    user.client.headers["authorization"] = f"Bearer {token}"
    journey.secrets.update(
        id_number=LI_BO["id_number"],
        password=CANDIDATE_PASSWORD,
        captcha_answer=CAPTCHA_ANSWER,
        captcha_token=captcha["captcha_token"],
        access_token=token,
        staff_password=PASSWORD,
    )

    # a token in a query string, as mail links carry them: no log or span may keep it
    assert (await user.get("/api/eligibility/home", params={"token": token})).status_code == 200
    version = (await user.get("/api/eligibility/agreement")).json()["version"]
    assert (await user.post("/api/eligibility/agreement", json={"version": version, "accepted": True})).status_code == 200

    async def session_open() -> bool:
        home = (await user.get("/api/eligibility/home")).json()
        return home.get("window") == "open"

    await wait_until(session_open, what="eligibility to learn the open session")
    assert (await user.post("/api/eligibility/qualification/query", json=LI_BO)).status_code == 200
    saved = await user.post("/api/eligibility/registrations", json={**LI_BO, "confirmed": True})
    assert saved.status_code == 200, saved.text

    async def known_to_enrolment() -> bool:
        return (await user.get("/api/enrolment/me/registration")).status_code == 200

    await wait_until(known_to_enrolment, what="enrolment to learn the registration")
    assert (await user.post("/api/enrolment/me/notices/acknowledgement")).status_code == 200
    enrolled = await user.post("/api/enrolment/me/written", json={"subject_codes": ["1"]})
    assert enrolled.status_code == 201, enrolled.text
    journey.written_enrolment_ids = enrolled.json()["enrolment_ids"]

    async def known_to_payment() -> httpx.Response | None:  # SubjectEnrolled reached payment's projection
        response = await user.post("/api/payment/orders/preview", json={"enrolment_ids": journey.written_enrolment_ids})
        return response if response.status_code == 200 else None

    await wait_until(known_to_payment, what="payment to learn the written subject")
    campuses = (await user.get("/api/enrolment/me/oral/F/campuses")).json()["campuses"]
    chosen = next(c for c in campuses if c["selectable"])
    oral = await user.post("/api/enrolment/me/oral", json={"offering_id": chosen["offering_id"]})
    assert oral.status_code == 201, oral.text
    journey.oral_enrolment_ids = oral.json()["enrolment_ids"]

    order = await user.post("/api/payment/orders", json={"enrolment_ids": journey.written_enrolment_ids})
    assert order.status_code in (200, 201), order.text
    checkout = await user.post(f"/api/payment/orders/{order.json()['order_id']}/checkout", json={"gateway": "alipay"})
    assert checkout.status_code == 200, checkout.text
    await pay_in_the_sandbox(stack, checkout.json())

    async def paid() -> bool:
        page = (await user.get("/api/enrolment/me/registration")).json()
        return page["written"]["payment_status"] == "全部支付"

    await wait_until(paid, timeout=40, what="the Alipay notification to make the written subject paid")

    # Y5 更新 with the oral subject checked out but not paid: payment asks Alipay (httpx → the sandbox)
    async def oral_ordered() -> httpx.Response | None:
        response = await user.post("/api/payment/orders", json={"enrolment_ids": journey.oral_enrolment_ids})
        return response if response.status_code in (200, 201) else None

    oral_order = (await wait_until(oral_ordered, what="payment to learn the oral subject")).json()
    assert (await user.post(f"/api/payment/orders/{oral_order['order_id']}/checkout", json={"gateway": "alipay"})).status_code == 200
    journey.refreshed = await user.post(f"/api/payment/registrations/{oral_order['registration_id']}/refresh")
    await user.close()
    await ops.close()
