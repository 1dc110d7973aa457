"""docs/operations.md explains every alert the suite can raise (issue 12, the runbook)."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_runbook_explains_every_alert_rule() -> None:
    rules = yaml.safe_load((REPO / "deploy/observability/alerts.yml").read_text(encoding="utf-8"))
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    runbook = (REPO / "docs/operations.md").read_text(encoding="utf-8")
    assert alerts, "no alert rules found"
    assert sorted(a for a in alerts if f"`{a}`" not in runbook) == []
