"""What one stack is: its ports, databases, secrets and the environment each process gets, and the
processes deploy/topology.toml declares (api + worker per service, enrolment: 2 api replicas, the
payment sandbox) plus the mail sink and nginx rendered from deploy/gateway. Nothing here boots
anything: cet_stack.start_stack() does, in order.

A service takes part as soon as its entrypoints.py exists."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from stack_kafka import KafkaNode
from stack_mailbox import Mailbox
from stack_processes import BIN, REPO, Proc

from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import SystemClock

sys.path.insert(0, str(REPO / "deploy"))
from topology import Process, load as load_topology

TOPOLOGY = load_topology()
SERVICES = tuple(TOPOLOGY.services)
# A replica that fails once is skipped for 2 s (the drills kill replicas on purpose).
SERVER_OPTIONS = "max_fails=1 fail_timeout=2s"


def present(service: str) -> bool:
    return (REPO / "services" / service / "src" / service / "entrypoints.py").is_file() and (BIN / f"{service}-api").exists()


def sandbox_present() -> bool:
    return present("payment") and "run_sandbox" in (REPO / "services/payment/src/payment/entrypoints.py").read_text() and (BIN / "payment-sandbox").exists()


def port_key(process: Process, replica: int) -> str:
    """The stack's name of a process's port: its service for an api (`enrolment-2`: a replica),
    `sandbox`, `<svc>-worker` (the first worker replica's ops port)."""
    if process.role == "api":
        return process.service if process.replicas == 1 else f"{process.service}-{replica}"
    return "sandbox" if process.role == "sandbox" else process.name


PORT_NAMES = (
    *dict.fromkeys(port_key(p, n) for p in TOPOLOGY.processes for n in range(1, (p.replicas if p.role == "api" else 1) + 1)),
    "gateway",
    "smtp",
    "kafka",
    "kafka-controller",
)


@dataclass
class Stack:
    root: Path
    pg_admin_url: str
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)
    captcha_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    topic_prefix: str = field(default_factory=lambda: f"e2e-{uuid.uuid4().hex[:8]}.")
    services: tuple[str, ...] = ()
    kafka: KafkaNode | None = None
    logs: Path | None = None  # the processes' logs; root/logs unless given
    env_overrides: dict[str, str] = field(default_factory=dict)  # on top of base_env()
    gateway_overrides: dict[str, str] = field(default_factory=dict)  # on top of gateway_env()
    worker_replicas: dict[str, int] = field(default_factory=dict)  # service -> worker processes (default 1)
    env_for: Callable[[Stack, str], dict[str, str]] | None = None  # process name -> extra environment

    # -- addresses ----------------------------------------------------------------------------
    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.root / "mail")

    # -- captcha ------------------------------------------------------------------------------
    def captcha(self, answer: str = "CET4") -> dict[str, str]:
        """A captcha the stack accepts (sealed with the run's secret), with its right answer."""
        token = CaptchaSeal(self.captcha_secret).seal(answer, clock=SystemClock(), ttl=timedelta(minutes=5))
        return {"captcha_token": token, "captcha_answer": answer}

    # -- environment --------------------------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL_", "KAFKA_", "SMTP_", "JWKS_", "CAPTCHA_", "CET_GW_"))}
        keys = self.root / "payment-keys"
        env.update(
            CET_ENV="test",
            PYTHONUNBUFFERED="1",
            KAFKA_BOOTSTRAP_SERVERS=self.kafka.bootstrap,
            KAFKA_TOPIC_PREFIX=self.topic_prefix,
            CAPTCHA_SECRET=self.captcha_secret,
            JWT_PRIVATE_KEY_FILE=str(self.root / "jwt-ed25519.pem"),
            JWKS_URL=f"{self.url('passport')}/.well-known/jwks.json",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(self.ports["smtp"]),
            PASSPORT_CAMPUS_BASE_URL=self.gateway,
            PASSPORT_PUBLIC_BASE_URL=self.gateway,
            # payment: the sandbox and the notifications through this run's gateway
            PAYMENT_NOTIFY_BASE_URL=f"{self.gateway}/api/payment",
            PAYMENT_RETURN_URL=f"{self.gateway}/registration",
            ALIPAY_GATEWAY_URL=f"{self.url('sandbox')}/alipay/gateway.do",
            PAYEASE_PAY_URL=f"{self.url('sandbox')}/payease/prs/user_payment.checkit",
            PAYEASE_API_BASE_URL=f"{self.url('sandbox')}/payease",
            ALIPAY_APP_PRIVATE_KEY_FILE=str(keys / "app_private_key.pem"),
            ALIPAY_PUBLIC_KEY_FILE=str(keys / "alipay_public_key.pem"),
            PAYEASE_KEY_FILE=str(keys / "payease_key"),
            SANDBOX_KEY_DIR=str(keys),
            SANDBOX_PUBLIC_BASE_URL=self.url("sandbox"),
            SANDBOX_PAYEASE_NOTIFY_URL=f"{self.gateway}/api/payment/notify/payease",
            SANDBOX_TIME_SCALE="0.001",
            # every acknowledged notification is sent once more: duplicates on every payment (Y3)
            SANDBOX_DUPLICATE_RATE="1",
            # the services' own per-client limits: every e2e request comes from 127.0.0.1
            QUERIES_PER_CLIENT="100000",
            RECOVERY_REQUESTS_PER_CLIENT="1000",
            LOGIN_FAILURES_PER_CLIENT="1000",
        )
        for svc, url in self.database_urls.items():
            env[f"DATABASE_URL_{svc.upper()}"] = url
        # small pools: eleven processes share one PostgreSQL
        env["DB_POOL_SIZE"] = "5"
        env.update(self.env_overrides)
        return env

    def gateway_env(self) -> dict[str, str]:
        def addresses(process: Process) -> list[str]:
            return [f"127.0.0.1:{self.ports[port_key(process, n)]}" for n in range(1, process.replicas + 1)]

        return {
            **{
                "CET_GW_LISTEN": f"127.0.0.1:{self.ports['gateway']}",
                **TOPOLOGY.gateway_env(addresses, server_options=SERVER_OPTIONS),
                "CET_GW_PAYMENT_FORM_ACTION": self.url("sandbox"),
                # The journey and the 200-candidate drill come from one address: high limits, except
                # password recovery, which the rate-limit test exhausts on purpose.
                "CET_GW_RATE_CAPTCHA": "500r/s",
                "CET_GW_BURST_CAPTCHA": "1000",
                "CET_GW_RATE_LOGIN": "500r/s",
                "CET_GW_BURST_LOGIN": "1000",
                "CET_GW_RATE_ACCOUNT_RECOVERY": "50r/s",
                "CET_GW_BURST_ACCOUNT_RECOVERY": "100",
                "CET_GW_RATE_ENROLMENT": "1000r/s",
                "CET_GW_BURST_ENROLMENT": "2000",
                "CET_GW_RATE_PASSWORD_RECOVERY": "1r/s",
                "CET_GW_BURST_PASSWORD_RECOVERY": "5",
            },
            **self.gateway_overrides,
        }

    # -- life cycle ---------------------------------------------------------------------------
    def add(self, name: str, argv: list[str], *, env: dict[str, str] | None = None, health: str | None = None, ready_line: str | None = None) -> Proc:
        env = dict(env or self.base_env())
        if self.env_for is not None:
            env.update(self.env_for(self, name))  # e.g. one process's database behind a fault proxy
        proc = Proc(name, argv, env, (self.logs or self.root / "logs") / f"{name}.log", health_url=health, ready_line=ready_line)
        self.procs[name] = proc
        return proc

    def select_services(self) -> None:
        """Every installed service; CET_E2E_SERVICES=passport,eligibility narrows the run."""
        wanted = [s.strip() for s in os.environ.get("CET_E2E_SERVICES", ",".join(SERVICES)).split(",") if s.strip()]
        self.services = tuple(s for s in SERVICES if s in wanted and present(s))
        if "passport" not in self.services or "eligibility" not in self.services:
            raise RuntimeError("passport and eligibility must be installed (make sync)")

    def build(self) -> None:
        """Describe every process (nothing runs yet); after the databases exist."""
        worker_ready = "worker running"
        for process in TOPOLOGY.processes:
            if process.service not in self.services:
                continue
            command = str(BIN / process.command)
            if process.role == "worker":
                svc = process.service
                for n in range(1, self.worker_replicas.get(svc, process.replicas) + 1):
                    # a stable instance id per process: static group membership across restarts; the
                    # first replica's own port serves /metrics, /healthz, /readyz
                    env = {
                        **self.base_env(),
                        "WORKER_INSTANCE_ID": f"{process.name}-{n}",
                        "WORKER_METRICS_PORT": str(self.ports[port_key(process, 1)]) if n == 1 else "0",
                    }
                    self.add(process.name + (f"-{n}" if n > 1 else ""), [command], env=env, ready_line=worker_ready)
            elif process.role == "sandbox" and not sandbox_present():
                continue
            else:
                for n, (name, _) in enumerate(process.instances(), start=1):
                    key = port_key(process, n)
                    self.add(name, [command, "--port", str(self.ports[key])], health=f"{self.url(key)}{process.health}")
        self.add(
            "mailsink",
            [
                sys.executable,
                str(REPO / "deploy/local/mailsink.py"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports["smtp"]),
                "--maildir",
                str(self.root / "mail"),
            ],
            ready_line=None,
        )

    def prepare_gateway(self) -> None:
        env = {**os.environ, **self.gateway_env()}
        out = subprocess.run(
            [sys.executable, str(REPO / "deploy/gateway/render.py"), "--prefix", str(self.root / "gateway")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"gateway config: {out.stderr}")
        prefix = self.root / "gateway"
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.add(
            "gateway",
            [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log"), "-g", "daemon off;"],
            env=dict(os.environ),
            health=f"{self.gateway}/healthz",
        )

    def api_procs(self) -> list[Proc]:
        return [p for n, p in self.procs.items() if "-api" in n]

    def worker(self, service: str) -> Proc:
        return self.procs[f"{service}-worker"]

    def stop(self) -> None:
        """SIGTERM every group at once (the gateway first), then wait; the broker is thrown away."""
        procs = [self.procs["gateway"]] if "gateway" in self.procs else []
        procs += [p for n, p in self.procs.items() if n != "gateway"]
        for proc in procs:
            if proc.alive:
                try:
                    os.killpg(proc.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in procs:
            proc.stop()
        if self.kafka:
            self.kafka.proc.kill(signal.SIGKILL)
