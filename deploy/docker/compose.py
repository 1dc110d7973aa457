"""Writes docker-compose.yml: deploy/docker/compose.template.yml (images, infrastructure, secrets)
with the suite's processes of deploy/topology.toml in it — the migrations, every api, worker and
the sandbox with its healthcheck, the demo and the gateway's upstreams.

    python3 deploy/docker/compose.py           write docker-compose.yml
    python3 deploy/docker/compose.py --check   exit 1 if the checked-in file is not current

Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "deploy"))

from topology import Process, Topology, load  # noqa: E402 - deploy/ on the path first

TEMPLATE = HERE / "compose.template.yml"
OUTPUT = REPO / "docker-compose.yml"

# What only compose needs to know of some processes (volumes, the sandbox's network namespace…).
EXTRA = {
    "passport-api": """\
    depends_on:
      <<: *after-migrations
      mailsink:
        condition: service_healthy
""",
    "payment-sandbox": """\
    environment:
      SANDBOX_KEY_DIR: /keys
      SANDBOX_PUBLIC_BASE_URL: http://127.0.0.1:8090
      SANDBOX_PAYEASE_NOTIFY_URL: http://gateway:8080/api/payment/notify/payease
    secrets: []
    volumes:
      - payment-keys:/keys
    ports:
      - "127.0.0.1:8090:8090"  # the sandbox's pay pages, for the browser
    depends_on:
      payment-keys:
        condition: service_completed_successfully
""",
}
# Before the sandbox: the merchant's test keys it serves, made once into a volume.
PAYMENT_KEYS = """\
  # The merchant's test keys (app key pair, PayEase key), once, into the payment-keys volume.
  payment-keys:
    <<: *service
    restart: "no"
    user: "0:0"  # a fresh named volume belongs to root: make the keys, then hand them to uid 10001
    command: ["sh", "-c", "payment-admin make-test-keys --dir /keys && chown -R 10001:10001 /keys"]
    volumes:
      - payment-keys:/keys
    depends_on: {}
"""


def probe(port: int, path: str) -> str:
    return f"""["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=2)"]"""


def process_block(process: Process, topology: Topology, *, first_worker: bool) -> str:
    base = "*payment" if process.service == "payment" and process.role != "sandbox" else "*service"
    command = f'["{process.command}"]' if process.role == "worker" else f'["{process.command}", "--port", "{process.port}"]'
    out = f"  {process.name}:\n    <<: {base}\n    command: {command}\n"
    if process.replicas > 1:
        out += f"    deploy:\n      replicas: {process.replicas}\n"
    out += EXTRA.get(process.name, "")
    if process.role == "worker" and not first_worker:
        return out + "    healthcheck: *worker-ready\n"
    if process.role == "worker":
        return out + f"    healthcheck: &worker-ready\n      test: {probe(topology.container_worker_port, process.ready)}\n      <<: *ready\n"
    return out + f"    healthcheck:\n      test: {probe(process.port, process.ready)}\n      <<: *ready\n"


def processes(topology: Topology) -> str:
    migrations = " && ".join(f"{service}-admin migrate" for service in topology.services)
    out = f"""  migrate:
    <<: *service
    restart: "no"
    command: ["sh", "-c", "{migrations}"]
    depends_on:
      postgres:
        condition: service_healthy
"""
    seen_worker = False
    for service in topology.services:
        out += "\n"
        for process in (p for p in topology.processes if p.service == service):
            if process.role == "sandbox":
                out += PAYMENT_KEYS
            out += process_block(process, topology, first_worker=not seen_worker)
            seen_worker |= process.role == "worker"
    waits = [p.name for p in topology.processes if p.role in ("api", "worker") and p.service != "payment"]
    out += """
  # The demo (deploy/local/demo): registry, CET4 scores, the published exam session, staff accounts.
  demo:
    <<: *service
    restart: "no"
    command: ["sh", "/demo.sh"]
    env_file:
      - deploy/docker/secrets/cet.env
      - deploy/docker/secrets/demo-accounts.env
    volumes:
      - ./deploy/docker/demo.sh:/demo.sh:ro
      - ./deploy/local/demo:/demo:ro
    depends_on:
""" + "".join(f"      {name}:\n        condition: service_healthy\n" for name in waits if name != "passport-worker")
    return out + gateway(topology)


def gateway(topology: Topology) -> str:
    def address(api: Process) -> list[str]:
        # payment-api lives in the sandbox's network namespace (see x-payment); every replica of a
        # replicated api answers to its one name, and nginx takes all its addresses
        host = "payment-sandbox" if api.service == "payment" else api.name
        return [f"{host}:{api.port}"]

    upstreams = topology.gateway_env(address, server_options="max_fails=1 fail_timeout=2s")
    env = "".join(f"      {name}: {value if ' ' not in value else chr(34) + value + chr(34)}\n" for name, value in upstreams.items())
    apis = [p.name for p in topology.processes if p.role == "api"]
    return f"""
  # The gateway: the official nginx image renders deploy/gateway/cet.conf.template at start
  # (envsubst of the CET_GW_* names only), the same template `make up` renders for Debian's nginx.
  gateway:
    image: nginx:1.27.5-bookworm
    ports:
      - "127.0.0.1:{topology.gateway_port}:{topology.gateway_port}"
    env_file: deploy/gateway/defaults.env
    environment:
      NGINX_ENVSUBST_FILTER: "^CET_GW_"
      CET_GW_LISTEN: "{topology.gateway_port}"
{env}      CET_GW_PORTAL_ROOT: /usr/share/nginx/portal
      CET_GW_ACCESS_LOG: /dev/stdout
    volumes:
      - ./deploy/gateway/cet.conf.template:/etc/nginx/templates/default.conf.template:ro
      - ./portal:/usr/share/nginx/portal:ro
    depends_on:
{"".join(f"      {name}:{chr(10)}        condition: service_healthy{chr(10)}" for name in apis)}    healthcheck:
      test: ["CMD", "curl", "-fsS", "http://127.0.0.1:{topology.gateway_port}{topology.gateway_health}"]
      interval: 5s
      retries: 12
    restart: unless-stopped

"""


def render(topology: Topology | None = None) -> str:
    template = "".join(line for line in TEMPLATE.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("#~"))
    return template.replace("@@PROCESSES@@", processes(topology or load()))


if __name__ == "__main__":
    text = render()
    if sys.argv[1:] == ["--check"]:
        if OUTPUT.read_text(encoding="utf-8") != text:
            raise SystemExit("docker-compose.yml is not current: run python3 deploy/docker/compose.py")
    elif sys.argv[1:]:
        raise SystemExit(__doc__)
    else:
        OUTPUT.write_text(text, encoding="utf-8")
