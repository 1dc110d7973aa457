"""Offline validation of rendered manifests: kustomize renders an overlay, every object is checked
against the Kubernetes schemas (kubernetes-validate, strict: unknown fields are errors) or against
the vendored CRD schema of its operator (deploy/k8s/crds/), also strict."""

from __future__ import annotations

import copy
import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
CRDS = K8S / "crds"
# The oldest Kubernetes the manifests must run on (matchLabelKeys in topology spread: 1.27+).
KUBERNETES_VERSION = "1.31"
KUSTOMIZE_BUILT = Path(os.environ.get("CET_TOOLS", Path.home() / ".cache/cet-suite/bin")) / "kustomize"


def kustomize() -> str:
    """kustomize v5.5.0, built from its Go module by the bootstrap (on PATH or in the suite's bin)."""
    found = shutil.which("kustomize") or (str(KUSTOMIZE_BUILT) if os.access(KUSTOMIZE_BUILT, os.X_OK) else None)
    if found is None:
        raise AssertionError("kustomize not found: the bootstrap builds it (sigs.k8s.io/kustomize/kustomize/v5@v5.5.0)")
    return found


def render(overlay: str) -> list[dict[str, Any]]:
    result = subprocess.run([kustomize(), "build", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kustomize refuses overlays/{overlay}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
OBJECT_META = {
    "type": "object",
    "required": ["name"],
    "properties": {
        # a DNS-1123 subdomain, as the API server requires of a custom object's name
        "name": {"type": "string", "maxLength": 253, "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"},
        "namespace": {"type": "string"},
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
}


def strict(schema: Any) -> Any:
    """A CRD schema where an object that lists its properties accepts no others (what the API
    server's strict field validation does; the CRD itself only prunes them)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema of every served version of the vendored CRDs."""
    schemas = {}
    for path in sorted(CRDS.rglob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                    schema = strict(schema)
                    # metadata is the API server's ObjectMeta, which the CRD does not describe
                    schema["properties"]["metadata"] = OBJECT_META
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def validate(obj: dict[str, Any]) -> None:
    """Raises with the object's kind and name when a schema rejects it."""
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    name = f"{key[1]}/{obj.get('metadata', {}).get('name')}"
    schema = crd_schemas().get(key)
    if schema is not None:
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.absolute_path))
        if errors:
            raise AssertionError(f"{name}: " + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]))
        return
    group = key[0].rpartition("/")[0]
    if "." in group and not group.endswith(".k8s.io"):
        raise AssertionError(f"{name}: no vendored CRD schema for {key[0]} {key[1]}")
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        raise AssertionError(f"{name}: {'/'.join(map(str, error.path))}: {error.message}") from None
    except kubernetes_validate.SchemaNotFoundError:
        raise AssertionError(f"{name}: Kubernetes {KUBERNETES_VERSION} has no {key[0]} {key[1]}") from None
