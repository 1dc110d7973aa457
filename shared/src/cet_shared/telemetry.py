"""OpenTelemetry: one trace from the gateway's request through the outbox, Kafka and the consumer.

- The gateway starts the trace: its `traceparent` carries nginx's `$request_id` as the trace id.
- The api's request span (FastAPI), its SQL (SQLAlchemy) and its calls to payment gateways (httpx).
- `enqueue` stores the request's context with the outbox row; the relay sends each row inside a
  PRODUCER span parented by it, with that span's `traceparent` and a `correlation_id` (the event id);
- the consumer opens a CONSUMER span per event, parented by those headers, even in batch mode.

Spans are exported only when configured (OTLP endpoint, or `CET_TRACES_DIR` for one JSON span per
line and process); otherwise nothing is instrumented: unexported spans would cost CPU per request
and show nobody anything (measured with bench/seat_grab.py). `TRACE_SAMPLE_RATIO` samples by trace
id, so every service keeps or drops the same traces.

Personal data (names, ID numbers, emails) never goes into span attributes; URLs are recorded
without query strings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cet_shared import logs

_tracer = trace.get_tracer("cet_shared")
_configured = False


class TelemetrySettings(BaseSettings):
    """What every process reads about its own observability (environment variables)."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    otel_exporter_otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    traces_dir: str | None = Field(default=None, validation_alias="CET_TRACES_DIR")
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0, validation_alias="TRACE_SAMPLE_RATIO")
    instance_id: str | None = Field(default=None, validation_alias="SERVICE_INSTANCE_ID")
    # A worker's own HTTP port for /metrics, /healthz, /readyz (0: none).
    worker_metrics_port: int = Field(default=0, ge=0, le=65535, validation_alias="WORKER_METRICS_PORT")
    worker_metrics_host: str = Field(default="127.0.0.1", validation_alias="WORKER_METRICS_HOST")

    @property
    def exporting(self) -> bool:
        return bool(self.otel_exporter_otlp_endpoint or self.traces_dir)


def tracing_enabled() -> bool:
    return TelemetrySettings().exporting


def sampler(ratio: float) -> Sampler:
    """Keeps `ratio` of the traces, decided by trace id: the gateway marks every request sampled,
    and each service (and each hop over Kafka) comes to the same decision for the same trace."""
    by_trace_id = TraceIdRatioBased(ratio)
    return ParentBased(root=by_trace_id, remote_parent_sampled=by_trace_id)


def setup_tracing(service_name: str, otlp_endpoint: str | None = None) -> None:
    """Once per process: name it (logs and traces) and install the exporters that are configured."""
    global _configured
    if _configured:
        return
    settings = TelemetrySettings()
    logs.identify(service_name, settings.instance_id)
    resource = Resource.create({"service.name": service_name, "service.instance.id": logs.instance_id()})
    provider = TracerProvider(resource=resource, sampler=sampler(settings.trace_sample_ratio))
    endpoint = otlp_endpoint or settings.otel_exporter_otlp_endpoint
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")))
    if settings.traces_dir:
        os.makedirs(settings.traces_dir, exist_ok=True)
        out = open(os.path.join(settings.traces_dir, f"{service_name}-{os.getpid()}.jsonl"), "a", encoding="utf-8")  # noqa: SIM115 - open for the process' life
        exporter = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    if endpoint or settings.traces_dir:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().instrument(request_hook=_url_without_query, async_request_hook=_async_url_without_query)
    _configured = True


def _url_without_query(span: Any, request: Any) -> None:
    # Gateway calls carry signed parameters (and sometimes order data) in the query string.
    url = request.url
    if span.is_recording() and isinstance(url, httpx.URL) and url.query:
        redacted = str(url.copy_with(query=None))
        span.set_attribute("url.full", redacted)
        span.set_attribute("http.url", redacted)


async def _async_url_without_query(span: Any, request: Any) -> None:
    _url_without_query(span, request)


def instrument_app(app: Any) -> None:
    """Request spans for a FastAPI app, when traces are exported."""
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", server_request_hook=_target_without_query)


def _target_without_query(span: Any, scope: dict[str, Any]) -> None:
    # Links from mails carry tokens in query strings: the request span keeps the path only.
    if span.is_recording() and scope.get("query_string"):
        path = scope.get("root_path", "") + scope.get("path", "")
        host = dict(scope.get("headers", ())).get(b"host", b"").decode("latin-1")
        span.set_attribute("http.target", path)
        span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{path}")


def instrument_engine(engine: Any) -> None:
    """SQL spans for an AsyncEngine, when traces are exported."""
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # Its declared range stops below SQLAlchemy 2.1, whose cursor events it uses unchanged (the
    # trace test proves the spans): skip the version check rather than lose SQL spans.
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, enable_commenter=False, skip_dep_check=True)


def outbox_headers(topic: str, envelope: Mapping[str, Any], stored_headers: Mapping[str, Any] | None) -> list[tuple[str, bytes]]:
    """The Kafka headers the relay sends an outbox row with: the trace context of a PRODUCER span
    (the hop, parented by the request that wrote the row), the event id as `correlation_id`
    (FastStream links a batch's records by it) and the content type."""
    carrier = {name: str(value) for name, value in (stored_headers or {}).items()}
    event_id = str(envelope.get("event_id", ""))
    attributes = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.message.id": event_id,
        "cet.event_type": str(envelope.get("event_type", "")),
    }
    with _tracer.start_as_current_span(f"{topic} publish", context=propagate.extract(carrier), kind=SpanKind.PRODUCER, attributes=attributes):
        propagate.inject(carrier)
    headers = [(name, value.encode()) for name, value in carrier.items()]
    return headers + [("content-type", b"application/json"), ("correlation_id", event_id.encode())]


def _consumer_span(group: str, topic: str, envelope: Any, record: Any, batch: trace.SpanContext) -> trace.Span:
    headers = {name: value.decode(errors="replace") for name, value in (getattr(record, "headers", None) or ())}
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
        "messaging.message.id": str(envelope.event_id),
        "cet.event_type": envelope.event_type,
    }
    if record is not None and hasattr(record, "offset"):
        attributes.update({"messaging.destination.partition.id": str(record.partition), "messaging.kafka.offset": record.offset})
    return _tracer.start_span(
        f"{topic} process", context=propagate.extract(headers), kind=SpanKind.CONSUMER, attributes=attributes, links=[Link(batch)] if batch.is_valid else None
    )


@contextmanager
def consumed_event(group: str, topic: str, envelope: Any, record: Any = None) -> Iterator[None]:
    """A CONSUMER span for one event of a (batch) delivery, parented by the producer's headers and
    linked to the batch span FastStream opened around the whole delivery."""
    with consumed_events(group, topic, [(envelope, record)]):
        yield


@contextmanager
def consumed_events(group: str, topic: str, events: list[tuple[Any, Any]]) -> Iterator[None]:
    """One CONSUMER span per event (envelope, record), for events applied together by one
    statement: each parented by its producer and linked to the delivery's batch span. The
    statements run in the first event's span (a statement has one parent)."""
    batch = trace.get_current_span().get_span_context()
    spans = [_consumer_span(group, topic, envelope, record, batch) for envelope, record in events]
    try:
        with trace.use_span(spans[0], end_on_exit=False, record_exception=True, set_status_on_exception=True):
            yield
    finally:
        for span in spans:
            span.end()
