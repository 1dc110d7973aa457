"""docker-compose.yml: `docker-compose config` (Docker Compose built from its Go module, no engine
needed) accepts it, it passes the Compose Specification's schema, and it runs what issue 12 asks:
the payment sandbox and its keys, healthchecks gating the start order, the demo, pinned images,
container-side addresses, and a build context without local secrets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
SCHEMA = REPO / "deploy" / "docker" / "schema" / "compose-spec.json"
BUILT = Path(os.environ.get("CET_TOOLS", Path.home() / ".cache/cet-suite/bin")) / "docker-compose"
# files the compose file reads at `config` time; make-secrets.sh writes the real ones (git-ignored)
SECRET_FILES = ("cet.env", "demo-accounts.env", "db_password", "jwt-ed25519.pem")


def compose_binary() -> str:
    for candidate in (os.environ.get("CET_DOCKER_COMPOSE"), shutil.which("docker-compose"), str(BUILT)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AssertionError("docker-compose not found: `make bootstrap` builds it (deploy/docker/build-compose.sh)")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The resolved model, from a copy of the project with stand-in secret files."""
    project = tmp_path_factory.mktemp("compose")
    shutil.copy(COMPOSE_FILE, project / "docker-compose.yml")
    (project / "deploy" / "gateway").mkdir(parents=True)
    shutil.copy(REPO / "deploy" / "gateway" / "defaults.env", project / "deploy" / "gateway" / "defaults.env")
    secrets = project / "deploy" / "docker" / "secrets"
    secrets.mkdir(parents=True)
    for name in SECRET_FILES:
        (secrets / name).write_text("STAND_IN=1\n")
    result = subprocess.run(
        [compose_binary(), "--project-directory", str(project), "-f", str(project / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DOCKER_CONFIG": str(project / ".docker")},
    )
    assert result.returncode == 0, f"docker-compose config refuses docker-compose.yml:\n{result.stderr}"
    return json.loads(result.stdout)


def test_the_compose_file_passes_the_compose_schema() -> None:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(document)]
    assert not errors, errors
    broken = {**document, "services": {**document["services"], "gateway": {**document["services"]["gateway"], "healthcheck": {"tset": []}}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken)), "the schema must reject an unknown field"


def test_every_long_running_service_is_health_checked_and_started_in_order(config: dict) -> None:
    services = config["services"]
    one_shot = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shot == {"migrate", "payment-keys", "demo"}
    for name, service in services.items():
        if name not in one_shot:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if dependency in one_shot else "service_healthy"
            assert condition["condition"] == expected, (name, dependency)
    for api in ("passport-api", "eligibility-api", "enrolment-api", "payment-api"):
        assert "/readyz" in " ".join(services[api]["healthcheck"]["test"]), api
        assert services["gateway"]["depends_on"][api]["condition"] == "service_healthy"
    assert services["payment-sandbox"]["depends_on"]["payment-keys"]["condition"] == "service_completed_successfully"
    assert services["payment-api"]["depends_on"]["payment-sandbox"]["condition"] == "service_healthy"
    assert set(services["demo"]["depends_on"]) >= {"passport-api", "eligibility-api", "enrolment-api"}


def test_images_are_pinned(config: dict) -> None:
    for name, service in config["services"].items():
        image = service["image"]
        if "build" in service:
            continue  # ours, built from deploy/docker/Dockerfile (whose bases are pinned, below)
        repository, _, tag = image.rpartition(":")
        assert repository and tag not in ("", "latest") and any(ch.isdigit() for ch in tag) and "." in tag, (name, image)
    dockerfile = (REPO / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    bases = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM")]
    assert bases and all(":" in b and b.rsplit(":", 1)[1][0].isdigit() for b in bases), bases
    assert "ghcr.io/astral-sh/uv:" in dockerfile  # uv pinned by its image tag, not `pip install uv`


def test_addresses_are_the_containers_own(config: dict) -> None:
    """Inside a container 127.0.0.1 is the container: only the payment processes, which share the
    sandbox's network namespace, may reach the sandbox there (the browser's address for it too)."""
    services = config["services"]
    for name, service in services.items():
        env = service.get("environment") or {}
        for key in ("KAFKA_BOOTSTRAP_SERVERS", "JWKS_URL", "SMTP_HOST", "PAYMENT_NOTIFY_BASE_URL", "SANDBOX_PAYEASE_NOTIFY_URL"):
            if key in env:
                assert "127.0.0.1" not in env[key] and "localhost" not in env[key], (name, key, env[key])
    for name in ("payment-api", "payment-worker"):
        assert services[name]["network_mode"] == "service:payment-sandbox"
        env = services[name]["environment"]
        for key in ("ALIPAY_GATEWAY_URL", "PAYEASE_PAY_URL", "PAYEASE_API_BASE_URL"):
            assert env[key].startswith("http://127.0.0.1:8090/"), key
        assert {"ALIPAY_APP_PRIVATE_KEY_FILE", "ALIPAY_PUBLIC_KEY_FILE", "PAYEASE_KEY_FILE"} <= set(env)
    assert services["gateway"]["environment"]["CET_GW_PAYMENT"] == "payment-sandbox:8004"
    assert "127.0.0.1:8090" in services["gateway"]["environment"]["CET_GW_PAYMENT_FORM_ACTION"]


def test_the_build_context_leaves_local_state_and_secrets_out() -> None:
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")}
    assert {".local/", ".venv/", "deploy/docker/secrets/", ".git/", "**/__pycache__/"} <= ignored
