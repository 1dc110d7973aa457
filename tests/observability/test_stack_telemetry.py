"""Issue 12 against the real processes (every service's api and worker, the gateway, Kafka,
PostgreSQL), after the journey of conftest.py:

- every api and worker serves /metrics (workers: /healthz and /readyz on their own port), and every
  metric the alert rules and the dashboard name is exported by them;
- a Prometheus started on those processes (its configuration from deploy/observability/
  prometheus_config.py, as `make up` does) reports every target up;
- one trace from the gateway's request through the outbox, Kafka and payment's consumer, for
  SubjectEnrolled → payment's projection, with SQL spans on both sides;
- every log line is JSON with time, level, service and instance (request lines: request id and
  trace); no ID number, password, captcha answer or token appears in any log.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cet_stack import REPO, Stack, free_ports
from evidence import Span, access_log, load_spans, log_files, service_log_lines
from observed import Journey
from prometheus_client.parser import text_string_to_metric_families

from cet_shared.testing import wait_for

OBSERVABILITY = REPO / "deploy/observability"
sys.path.insert(0, str(OBSERVABILITY))
import prometheus_config  # noqa: E402

pytestmark = pytest.mark.kafka


def metric_targets(stack: Stack) -> dict[str, str]:
    """Process name → address of its /metrics: the apis' own port, the workers' ops port."""
    targets = {}
    for name, proc in stack.procs.items():
        if name.endswith("-worker"):
            targets[name] = f"127.0.0.1:{stack.ports[name]}"
        elif "-api" in name and proc.health_url:
            targets[name] = proc.health_url.removeprefix("http://").removesuffix("/healthz")
    return targets


def exported_names(stack: Stack) -> set[str]:
    names: set[str] = set()
    for address in metric_targets(stack).values():
        response = httpx.get(f"http://{address}/metrics", timeout=10)
        assert response.status_code == 200, address
        for family in text_string_to_metric_families(response.text):
            names.add(family.name)
            names.update(sample.name for sample in family.samples)
    return names


def named_in_rules_and_dashboard() -> tuple[set[str], set[str]]:
    """(metric names our processes must export, recording-rule names) in alerts.yml and the dashboard."""
    rules = (OBSERVABILITY / "alerts.yml").read_text()
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    expressions = rules + "\n".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    metrics = set(re.findall(r"\bcet_[a-z0-9_]+", expressions))
    recorded_used = set(re.findall(r"\bcet:[a-z0-9_:]+", expressions))
    recorded_defined = set(re.findall(r"record: (cet:[a-z0-9_:]+)", rules))
    assert recorded_used <= recorded_defined, recorded_used - recorded_defined
    return metrics, recorded_defined


async def eventually(predicate, *, timeout: float, describe) -> None:
    """wait_for, with the last state in the failure message."""
    try:
        await wait_for(predicate, timeout=timeout, interval=0.5)
    except AssertionError:
        raise AssertionError(describe()) from None


async def test_every_api_and_worker_serves_metrics_and_workers_their_health(journey: Journey) -> None:
    stack = journey.stack
    targets = metric_targets(stack)
    assert {f"{svc}-worker" for svc in stack.services} <= targets.keys()
    assert sum(1 for name in targets if "-api" in name) == len(stack.services) + (1 if "enrolment" in stack.services else 0)
    for name, address in targets.items():
        metrics = httpx.get(f"http://{address}/metrics", timeout=10)
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain"), name
        assert "cet_db_pool_connections_max" in metrics.text, name
        if name.endswith("-worker"):
            assert httpx.get(f"http://{address}/healthz", timeout=10).status_code == 200, name
            ready = httpx.get(f"http://{address}/readyz", timeout=10)
            assert ready.status_code == 200 and ready.json() == {"status": "ready"}, (name, ready.text)


async def test_the_gateway_does_not_expose_the_metrics(journey: Journey) -> None:
    for service in journey.stack.services:
        answer = httpx.get(f"{journey.stack.gateway}/api/{service}/metrics", timeout=10)
        assert answer.status_code == 404 and "cet_http_requests" not in answer.text, service


async def test_every_metric_in_the_rules_and_the_dashboard_is_exported(journey: Journey) -> None:
    needed, _ = named_in_rules_and_dashboard()
    assert len(needed) >= 15, needed
    # workers collect their figures every few seconds: wait for a round after the journey
    missing: set[str] = set()

    def all_exported() -> bool:
        missing.clear()
        missing.update(needed - exported_names(journey.stack))
        return not missing

    await eventually(all_exported, timeout=30, describe=lambda: f"metrics not exported: {sorted(missing)}")


async def test_the_journey_shows_in_the_business_figures(journey: Journey) -> None:
    stack = journey.stack
    samples = {}
    for address in metric_targets(stack).values():
        for family in text_string_to_metric_families(httpx.get(f"http://{address}/metrics", timeout=10).text):
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                samples[key] = samples.get(key, 0) + sample.value

    def total(name: str, **labels: str) -> float:
        return sum(v for (n, ls), v in samples.items() if n == name and all(dict(ls).get(k) == want for k, want in labels.items()))

    assert total("cet_http_requests_total", method="POST", route="/me/oral", status="201") == 1
    assert total("cet_http_problems_total", method="POST", route="/sessions", code="invalid_credentials") == 1
    assert total("cet_payment_notifications_total", gateway="alipay", verdict="applied") == 1
    assert total("cet_payment_notifications_total", gateway="alipay", verdict="duplicate") >= 1  # the sandbox repeats it
    assert total("cet_consumer_events_total", outcome="applied") >= 5
    assert total("cet_outbox_published_total") >= 5
    assert total("cet_enrolment_seats_remaining") > 0


async def test_consumer_lag_is_reported_per_group_and_partition_and_drains(journey: Journey) -> None:
    """Every worker reports the partitions it is assigned; once the journey's events are applied
    (it waited for their effects), the lag of every group is 0."""
    stack = journey.stack
    lags: dict[tuple[str, str, str], float] = {}

    def drained() -> bool:
        lags.clear()
        for name, address in metric_targets(stack).items():
            if name.endswith("-worker"):
                for family in text_string_to_metric_families(httpx.get(f"http://{address}/metrics", timeout=10).text):
                    lags.update(
                        {(s.labels["group"], s.labels["topic"], s.labels["partition"]): s.value for s in family.samples if s.name == "cet_consumer_lag"}
                    )
        groups = {group.removeprefix(stack.topic_prefix) for group, _, _ in lags}
        return {"passport", "eligibility", "enrolment.registrations", "enrolment.payments", "payment"} <= groups and not any(lags.values())

    await eventually(drained, timeout=30, describe=lambda: f"lags: {lags}")
    assert all(topic.startswith(stack.topic_prefix) and partition.isdigit() for _, topic, partition in lags)


def prometheus_binary() -> str:
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    assert Path(binary).exists(), "prometheus not installed (apt-get install -y prometheus)"
    return binary


@pytest.fixture
def prometheus(journey: Journey, tmp_path: Path) -> Iterator[str]:
    port = free_ports(1)[0]
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config.config(metric_targets(journey.stack), interval="1s"))
    with (tmp_path / "prometheus.log").open("wb") as log:
        proc = subprocess.Popen(
            [prometheus_binary(), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_prometheus_scrapes_every_api_and_worker_and_loads_the_alerts(journey: Journey, prometheus: str) -> None:
    expected = set(metric_targets(journey.stack))
    health: dict[str, str] = {}

    def all_up() -> bool:
        try:
            targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        except (httpx.HTTPError, KeyError, ValueError):
            return False
        health.clear()
        health.update({t["labels"]["process"]: t["health"] for t in targets})
        return set(health) == expected and all(h == "up" for h in health.values())

    await eventually(all_up, timeout=60, describe=lambda: f"targets: {health}")
    # every panel's query runs against the real series without an error, and the seats panel has data
    for panel in json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())["panels"]:
        for target in panel["targets"]:
            answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": target["expr"]}, timeout=10).json()
            assert answer["status"] == "success", (panel["title"], answer)

    async def seats_scraped() -> bool:
        query = {"query": "max by (campus, subject) (cet_enrolment_seats_remaining)"}
        return bool(httpx.get(f"{prometheus}/api/v1/query", params=query, timeout=10).json()["data"]["result"])

    await eventually(seats_scraped, timeout=30, describe=lambda: "no seats remaining in Prometheus")
    rules = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    alerts = {rule["name"] for group in rules for rule in group["rules"] if rule["type"] == "alerting"}
    assert {"CetOutboxStale", "CetConsumerLagGrowing", "CetDeadLetter", "CetHttp5xxRate", "CetSeatGrabSlow", "CetDatabaseConnectionsNearLimit"} <= alerts


async def test_one_trace_from_the_gateway_through_the_outbox_and_kafka_to_payments_projection(journey: Journey) -> None:
    stack = journey.stack
    enrolled = [e for e in access_log(stack) if e["method"] == "POST" and e["uri"] == "/api/enrolment/me/written" and e["status"] == 201]
    assert len(enrolled) == 1, enrolled
    trace_id = enrolled[0]["request_id"]  # the gateway's $request_id is the trace id
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id) and enrolled[0]["trace_id"] == trace_id
    spans: list[Span] = []

    def consumed_with_sql() -> bool:  # processes flush their spans every half second
        spans[:] = [s for s in load_spans(journey.traces) if s.trace_id == trace_id]
        consumed = {s.span_id for s in spans if s.service == "payment-worker" and s.kind == "CONSUMER"}
        return any(s.is_sql and s.parent_id in consumed for s in spans)

    await eventually(consumed_with_sql, timeout=30, describe=lambda: f"trace {trace_id}: {sorted({(s.service, s.kind, s.name) for s in spans})}")
    by_id = {s.span_id: s for s in spans}

    request = [s for s in spans if s.service == "enrolment-api" and s.kind == "SERVER" and s.parent_id == trace_id[:16]]
    assert len(request) == 1, "the api's request span is the child of the gateway's"
    # The outbox rows are written in the request's trace: by an INSERT, or inside hold_seats() (the seat
    # primitive takes the seats and writes their events in one statement).
    assert any(
        s.is_sql and any(word in str(s.attributes.get("db.statement", "")) for word in ("outbox", "hold_seats")) for s in spans if s.service == "enrolment-api"
    )

    published = [s for s in spans if s.service == "enrolment-worker" and s.kind == "PRODUCER" and s.attributes.get("cet.event_type") == "SubjectEnrolled"]
    assert len(published) == len(journey.written_enrolment_ids) == 1
    assert by_id[published[0].parent_id].service == "enrolment-api"  # the relay continues the request's trace

    consumed = [s for s in spans if s.service == "payment-worker" and s.kind == "CONSUMER" and s.attributes.get("cet.event_type") == "SubjectEnrolled"]
    assert len(consumed) == 1 and consumed[0].parent_id == published[0].span_id
    assert len(consumed[0].raw["links"]) == 1  # and linked to the span FastStream opened for the whole batch
    assert consumed[0].attributes["messaging.message.id"] == published[0].attributes["messaging.message.id"]
    assert consumed[0].attributes["messaging.consumer.group.name"].endswith("payment")
    assert any(s.is_sql and s.parent_id == consumed[0].span_id for s in spans), "the projection's SQL is in the event's span"
    instances = {s.service: s.instance for s in spans}
    assert all(instances.values()) and len(set(instances.values())) == len(instances), instances  # service.instance.id per process


async def test_a_call_to_a_payment_gateway_is_a_client_span_of_the_request(journey: Journey) -> None:
    stack = journey.stack
    assert journey.refreshed is not None and journey.refreshed.status_code == 200, journey.refreshed.text
    trace_id = journey.refreshed.headers["x-request-id"]
    sandbox = f"127.0.0.1:{stack.ports['sandbox']}"
    calls: list[Span] = []

    def called() -> bool:
        calls[:] = [s for s in load_spans(journey.traces) if s.trace_id == trace_id and s.service == "payment-api" and s.kind == "CLIENT" and not s.is_sql]
        return any(sandbox in str(s.attributes.get("url.full") or s.attributes.get("http.url")) for s in calls)

    await eventually(called, timeout=30, describe=lambda: f"client spans of {trace_id}: {[s.attributes for s in calls]}")
    assert not any("?" in str(s.attributes.get("url.full", "")) + str(s.attributes.get("http.url", "")) for s in calls)  # no signed query strings


async def test_logs_are_json_lines_with_service_instance_request_id_and_trace(journey: Journey) -> None:
    stack = journey.stack
    lines = service_log_lines(stack)
    assert {name for name in stack.procs if "-api" in name or name.endswith("-worker")} <= set(lines)
    records: dict[str, list[dict]] = {}
    for process, entries in lines.items():
        for line in entries:
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"{process}: not a JSON line: {line[:200]}") from None
            assert {"time", "level", "service", "instance", "message"} <= record.keys(), (process, record)
            records.setdefault(process, []).append(record)
    assert all(r["service"] == "payment-worker" for r in records["payment-worker"][1:])
    # lines written while answering a gateway request: payment's notes on the repeated notification
    gateway_ids = {entry["request_id"] for entry in access_log(stack)}
    answering = [r for r in records["payment-api"] if "request_id" in r]
    assert answering, "payment-api logged nothing while answering a request"
    assert all(r["request_id"] in gateway_ids and r["trace_id"] == r["request_id"] and len(r["span_id"]) == 16 for r in answering), answering


async def test_no_id_number_password_captcha_answer_or_token_in_any_log_or_trace(journey: Journey) -> None:
    files = log_files(journey.stack) + sorted(journey.traces.glob("*.jsonl"))
    assert len(files) >= 10 and journey.secrets.keys() >= {"id_number", "password", "captcha_answer", "captcha_token", "access_token"}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert text.strip() or path.name == "error.log", f"{path.name} is empty: the check would prove nothing"
        for what, secret in journey.secrets.items():
            assert secret not in text, f"{what} found in {path.name}"
