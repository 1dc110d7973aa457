"""Write the Prometheus configuration that scrapes the suite's processes, from the list of
processes the caller starts (deploy/local/suite.sh, tests/observability), so the two never differ.

    python3 deploy/observability/prometheus_config.py --out FILE [--interval 5s] NAME=HOST:PORT ...

NAME is the process' name as the suite knows it (`enrolment-api-2`, `payment-worker`): the
target gets the labels `service` (enrolment) and `role` (api | worker), which the alert rules and
the dashboard group by; `instance` stays HOST:PORT. The alert rules next to this file are loaded.
Standard library only: suite.sh runs it before the project's venv is needed.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = ("alerts.yml",)
_PROCESS = re.compile(r"^(?P<service>[a-z]+)-(?P<role>api|worker)(-\d+)?$")


def labels_of(name: str) -> dict[str, str]:
    match = _PROCESS.match(name)
    if not match:
        raise SystemExit(f"prometheus_config.py: {name!r} is not <service>-api[-N] or <service>-worker")
    return {"service": match["service"], "role": match["role"], "process": name}


def config(targets: dict[str, str], *, interval: str = "5s", rules_dir: Path = HERE) -> str:
    """The configuration as YAML (JSON is YAML: no YAML library needed)."""
    static = [{"targets": [address], "labels": labels_of(name)} for name, address in targets.items()]
    document = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rules_dir / name) for name in RULES],
        "scrape_configs": [
            {"job_name": "cet", "metrics_path": "/metrics", "static_configs": static},
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--interval", default="5s")
    parser.add_argument("targets", nargs="+", metavar="NAME=HOST:PORT")
    args = parser.parse_args(argv)
    targets = dict(target.split("=", 1) for target in args.targets)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(config(targets, interval=args.interval), encoding="utf-8")


if __name__ == "__main__":
    main()
