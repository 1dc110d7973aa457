"""deploy/k8s/rollout.sh applies a release in the order that keeps the old version serving until
the new schema is in: data first, then the migration Jobs to completion, then the Deployments.
There is no cluster here: a recording `kubectl` on PATH shows what the script asks, in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from k8s_validation import K8S, kustomize

RECORDER = """#!{python}
import json, sys
import yaml
args = sys.argv[1:]
kinds = []
if "-f" in args and args[args.index("-f") + 1] == "-":
    kinds = [d["kind"] for d in yaml.safe_load_all(sys.stdin) if d]
elif "-f" in args:
    kinds = [d["kind"] for d in yaml.safe_load_all(open(args[args.index("-f") + 1])) if d]
with open({log!r}, "a") as log:
    log.write(json.dumps({{"args": args, "kinds": kinds}}) + "\\n")
if args[:3] == ["-n", "cet", "get"]:
    print("deployment.apps/enrolment-api")
"""


def test_rollout_applies_data_then_migrations_then_services(tmp_path: Path) -> None:
    log = tmp_path / "kubectl.jsonl"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(RECORDER.format(python=sys.executable, log=str(log)))
    kubectl.chmod(0o755)
    (bin_dir / "kustomize").symlink_to(kustomize())
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run([str(K8S / "rollout.sh"), "production"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    verbs = [" ".join(c["args"][2:4]) if c["args"][:1] == ["-n"] else c["args"][0] for c in calls]
    assert verbs == [
        "apply",
        "wait --for=condition=Ready",
        "wait --for=condition=Ready",
        "delete job",
        "apply",
        "wait --for=condition=Complete",
        "apply",
        "get deployments",
        "rollout status",
    ], verbs
    data, jobs, everything = (calls[i]["kinds"] for i in (0, 4, 6))
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "Pooler", "Namespace"} <= set(data)
    assert "Deployment" not in data and "Job" not in data
    assert set(jobs) == {"Job"} and len(jobs) == 4
    assert "Deployment" in everything
    assert all(c["args"][:2] == ["-n", "cet"] for c in calls if c["args"][0] == "-n")
