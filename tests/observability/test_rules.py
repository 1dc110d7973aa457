"""The alert rules, the dashboard and the generated Prometheus configuration pass Prometheus' own
checks (issue 12, "Local Prometheus"): `promtool check rules`, `promtool test rules` (each alert
fires in its unit test), `promtool check config`; every dashboard expression is valid PromQL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OBSERVABILITY = REPO / "deploy/observability"
sys.path.insert(0, str(OBSERVABILITY))

import prometheus_config  # noqa: E402

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool(*args: str, cwd: Path = OBSERVABILITY) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_alert_rules_are_valid() -> None:
    out = promtool("check", "rules", "alerts.yml")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_every_alert_fires_in_its_unit_test() -> None:
    out = promtool("test", "rules", "alerts.test.yml")
    assert out.returncode == 0, out.stdout + out.stderr
    tested = set((OBSERVABILITY / "alerts.test.yml").read_text().split("alertname: ")[1:])
    tested_names = {chunk.split()[0] for chunk in tested}
    alerts = {line.split("alert:")[1].strip() for line in (OBSERVABILITY / "alerts.yml").read_text().splitlines() if "- alert:" in line}
    assert alerts and alerts <= tested_names, f"alerts without a unit test: {alerts - tested_names}"


def test_every_dashboard_expression_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each expression as a recording rule (it has no PromQL linter of its own)."""
    expressions = dashboard_expressions()
    assert len(expressions) >= 16
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:panel_{i}", "expr": e} for i, e in enumerate(expressions)]}]}
    (tmp_path / "dashboard-rules.yml").write_text(json.dumps(rules))
    out = promtool("check", "rules", "dashboard-rules.yml", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_generated_prometheus_config_is_valid(tmp_path: Path) -> None:
    targets = {"passport-api": "127.0.0.1:8001", "enrolment-api-2": "127.0.0.1:8013", "payment-worker": "127.0.0.1:8024"}
    (tmp_path / "prometheus.yml").write_text(prometheus_config.config(targets))
    out = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    document = json.loads((tmp_path / "prometheus.yml").read_text())
    labels = [c["labels"] for c in document["scrape_configs"][0]["static_configs"]]
    assert {"service": "enrolment", "role": "api", "process": "enrolment-api-2"} in labels


def test_a_process_name_outside_the_scheme_is_refused() -> None:
    with pytest.raises(SystemExit):
        prometheus_config.labels_of("gateway")
