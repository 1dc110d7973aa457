"""Reading what the stack's processes left behind: spans (CET_TRACES_DIR, one JSON span per line
and process), their logs and the gateway's access log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cet_stack import Stack

HARNESS_MARK = "===== start #"  # the harness' own line before each start of a process


@dataclass(frozen=True)
class Span:
    raw: dict[str, Any]

    @property
    def name(self) -> str:
        return self.raw["name"]

    @property
    def trace_id(self) -> str:
        return self.raw["context"]["trace_id"].removeprefix("0x")

    @property
    def span_id(self) -> str:
        return self.raw["context"]["span_id"].removeprefix("0x")

    @property
    def parent_id(self) -> str | None:
        parent = self.raw.get("parent_id")
        return parent.removeprefix("0x") if parent else None

    @property
    def kind(self) -> str:
        return self.raw["kind"].removeprefix("SpanKind.")

    @property
    def service(self) -> str:
        return self.raw["resource"]["attributes"]["service.name"]

    @property
    def instance(self) -> str | None:
        return self.raw["resource"]["attributes"].get("service.instance.id")

    @property
    def attributes(self) -> dict[str, Any]:
        return self.raw.get("attributes") or {}

    @property
    def is_sql(self) -> bool:
        return self.attributes.get("db.system") == "postgresql" or self.attributes.get("db.system.name") == "postgresql"


def load_spans(folder: Path) -> list[Span]:
    spans = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                spans.append(Span(json.loads(line)))
    return spans


def access_log(stack: Stack) -> list[dict[str, Any]]:
    path = stack.root / "gateway" / "access.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def log_files(stack: Stack) -> list[Path]:
    """Every process' log (services, workers, sandbox, mail sink) and the gateway's two logs."""
    folder = stack.logs or stack.root / "logs"
    return sorted(folder.glob("*.log")) + [stack.root / "gateway" / "access.log", stack.root / "gateway" / "error.log"]


def service_log_lines(stack: Stack) -> dict[str, list[str]]:
    """The apis' and workers' log lines (not the harness' markers), by process."""
    folder = stack.logs or stack.root / "logs"
    lines = {}
    for path in sorted(folder.glob("*.log")):
        if "-api" in path.stem or path.stem.endswith("-worker"):
            lines[path.stem] = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and HARNESS_MARK not in line]
    return lines
