"""The shared app factory's telemetry in-process (cet_shared.web, .metrics, .logs, .request_ids,
.telemetry): what the stack test relies on, each piece where it could fail."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Request
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import Gauge
from prometheus_client.parser import text_string_to_metric_families

from cet_shared.logs import JsonFormatter, request_id
from cet_shared.metrics import CachedGauge
from cet_shared.problems import Problem
from cet_shared.telemetry import TelemetrySettings, sampler
from cet_shared.testing import wait_for
from cet_shared.web import create_app

SEEN = Gauge("cet_test_cached_rows", "a cached gauge under test")


IMPORT_RELEASED = asyncio.Event()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(title="telemetry under test")
    router = APIRouter(prefix="/registry")  # included, as the services' routes are

    @router.post("/students")
    async def slow_import(request: Request) -> dict[str, int]:
        body = await request.body()
        await IMPORT_RELEASED.wait()
        return {"rows": body.count(b"\n")}

    app.include_router(router)

    @app.get("/seats/{campus}")
    async def seat(campus: str) -> dict[str, str]:
        logging.getLogger("under-test").warning("looking at a campus")
        if campus == "full":
            raise Problem(409, "sold_out", "名额已满")
        if campus == "broken":
            raise RuntimeError("a bug")
        return {"campus": campus}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test") as client:
        yield client


def samples(text: str, name: str) -> dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name}


async def test_requests_and_problems_are_counted_by_route_template_and_code(client: httpx.AsyncClient) -> None:
    before = samples((await client.get("/metrics")).text, "cet_http_problems_total")
    for campus in ("991010", "993010", "full", "full"):
        await client.get(f"/seats/{campus}")
    await client.get("/no/such/path")
    text = (await client.get("/metrics")).text
    requests = samples(text, "cet_http_requests_total")
    assert requests[(("method", "GET"), ("route", "/seats/{campus}"), ("status", "200"))] >= 2
    assert not any("991010" in str(labels) for labels in requests), "raw paths would make the label set unbounded"
    problems = samples(text, "cet_http_problems_total")
    key = (("code", "sold_out"), ("method", "GET"), ("route", "/seats/{campus}"))
    assert problems[key] - before.get(key, 0) == 2
    assert problems[(("code", "not_found"), ("method", "GET"), ("route", "unmatched"))] >= 1
    durations = samples(text, "cet_http_request_duration_seconds_count")
    assert durations[(("method", "GET"), ("route", "/seats/{campus}"))] >= 4
    assert not any(labels and dict(labels).get("route") == "/metrics" for labels in requests)


async def test_methods_a_client_invents_share_one_label(client: httpx.AsyncClient) -> None:
    for method in ("BREW", "XYZZY1", "XYZZY2"):
        assert (await client.request(method, "/seats/991010")).status_code == 405
    requests = samples((await client.get("/metrics")).text, "cet_http_requests_total")
    methods = {dict(labels)["method"] for labels in requests}
    assert "other" in methods and not methods & {"BREW", "XYZZY1", "XYZZY2"}


async def test_a_request_id_from_the_gateway_is_kept_and_anything_else_replaced(client: httpx.AsyncClient) -> None:
    kept = await client.get("/seats/991010", headers={"x-request-id": "0123456789abcdef0123456789abcdef"})
    assert kept.headers["x-request-id"] == "0123456789abcdef0123456789abcdef"
    forged = await client.get("/seats/991010", headers={"x-request-id": "id 330101199001010024 <script>"})
    assert forged.headers["x-request-id"] != "id 330101199001010024 <script>" and len(forged.headers["x-request-id"]) == 32
    fresh = await client.get("/seats/991010")
    assert len(fresh.headers["x-request-id"]) == 32 and fresh.headers["x-request-id"] != forged.headers["x-request-id"]


async def test_a_long_import_shows_as_in_progress_until_it_ends(client: httpx.AsyncClient) -> None:
    def in_progress(text: str) -> float:
        return samples(text, "cet_http_requests_in_progress").get((("method", "POST"), ("route", "/registry/students")), 0)

    IMPORT_RELEASED.clear()
    upload = asyncio.create_task(client.post("/registry/students", content=b"a\nb\n"))

    async def shows_in_progress() -> bool:
        assert not upload.done()
        return in_progress((await client.get("/metrics")).text) == 1

    await wait_for(shows_in_progress, timeout=10, what="the import to show as in progress")
    IMPORT_RELEASED.set()
    assert (await upload).json() == {"rows": 2}
    assert in_progress((await client.get("/metrics")).text) == 0


async def test_an_unexpected_error_is_logged_with_the_request_id_and_counted(client: httpx.AsyncClient) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logging.getLogger("cet_shared.problems").addHandler(handler)
    try:
        answer = await client.get("/seats/broken", headers={"x-request-id": "fedcba9876543210fedcba9876543210"})
    finally:
        logging.getLogger("cet_shared.problems").removeHandler(handler)
    assert answer.status_code == 500 and answer.json()["code"] == "internal_error"
    record = json.loads(out.getvalue().splitlines()[0])
    assert record["request_id"] == "fedcba9876543210fedcba9876543210" and "RuntimeError: a bug" in record["exception"]
    text = (await client.get("/metrics")).text
    assert samples(text, "cet_http_problems_total")[(("code", "internal_error"), ("method", "GET"), ("route", "/seats/{campus}"))] >= 1
    assert samples(text, "cet_http_requests_total")[(("method", "GET"), ("route", "/seats/{campus}"), ("status", "500"))] >= 1


def test_a_log_line_is_one_json_object_with_the_request_id_and_the_trace() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("cet-json-under-test")
    logger.addHandler(handler)
    logger.propagate = False
    tracer = TracerProvider().get_tracer("test")
    token = request_id.set("0123456789abcdef0123456789abcdef")
    try:
        with tracer.start_as_current_span("request") as span:
            logger.warning("seat %s refused:\nsold out", "F")
        context = span.get_span_context()
    finally:
        request_id.reset(token)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1  # a multi-line message stays one line
    record = json.loads(lines[0])
    assert record["message"] == "seat F refused:\nsold out" and record["level"] == "WARNING"
    assert record["request_id"] == "0123456789abcdef0123456789abcdef"
    assert record["trace_id"] == format(context.trace_id, "032x") and record["span_id"] == format(context.span_id, "016x")
    assert {"time", "service", "instance"} <= record.keys()


async def test_a_cached_gauge_reads_the_database_once_per_ttl_not_per_scrape() -> None:
    reads = []

    async def fetch(engine: object) -> list:
        reads.append(engine)
        return [((), len(reads))]

    gauge = CachedGauge(SEEN, fetch, ttl=60)
    for _ in range(5):
        await gauge.refresh(engine="db")
    assert len(reads) == 1 and SEEN._value.get() == 1
    gauge._fresh_until = 0  # the ttl has passed
    await gauge.refresh(engine="db")
    assert len(reads) == 2 and SEEN._value.get() == 2


async def test_a_failing_database_read_keeps_the_scrape_answering_with_the_last_figure() -> None:
    answers: list = [[((), 7)]]

    async def fetch(engine: object) -> list:
        if not answers:
            raise ConnectionRefusedError("database away")
        return answers.pop()

    gauge = CachedGauge(SEEN, fetch, ttl=60)
    await gauge.refresh(engine="db")
    gauge._fresh_until = 0
    await gauge.refresh(engine="db")  # logged, not raised
    assert SEEN._value.get() == 7


def test_the_sampling_ratio_is_a_setting_and_decides_by_trace_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACE_SAMPLE_RATIO", "0.25")
    provider = TracerProvider(sampler=sampler(TelemetrySettings().trace_sample_ratio))
    kept = sum(provider.get_tracer("t").start_span("s").is_recording() for _ in range(4000))
    assert 700 < kept < 1300
    # a remote parent (the gateway, another service over Kafka) marked sampled: the same decision
    # for the same trace id, whichever service decides
    parent = trace.SpanContext(
        trace_id=0x0123456789ABCDEF0123456789ABCDEF, span_id=0x0123456789ABCDEF, is_remote=True, trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)
    )
    decisions = {provider.get_tracer("t").start_span("s", context=trace.set_span_in_context(trace.NonRecordingSpan(parent))).is_recording() for _ in range(10)}
    assert len(decisions) == 1
    monkeypatch.setenv("TRACE_SAMPLE_RATIO", "1.5")
    with pytest.raises(ValueError):
        TelemetrySettings()
