"""The one way tests start the whole suite: every service as its own processes, behind a private gateway.

`start_stack()` makes one `Stack` (tests/e2e: per session; tests/browser: per package):
  - fresh throw-away databases (PG_ADMIN_URL), migrated with each service's `<svc>-admin migrate`;
  - its own Kafka broker (KRaft, from the jars `make infra-up` fetched) on free ports, so a drill
    may stop it; every topic and consumer group also carries a unique prefix (KAFKA_TOPIC_PREFIX);
  - its own JWT key, captcha secret, mail sink (deploy/local/mailsink.py) and payment keys;
  - every process deploy/topology.toml declares (api + worker per service, enrolment: 2 api
    replicas, the payment sandbox) and nginx rendered from deploy/gateway — all on free ports, so
    it never collides with `make up` or other tests.
Each process runs in its own process group: `kill()` (SIGKILL by default) and `start()` again are
the drills' tools; teardown stops every group.

A service takes part as soon as its entrypoints.py exists (enrolment and payment join later).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import SystemClock
from cet_shared.testing import required_env, throwaway_database
from cet_shared.topics import create as create_topics

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy"))
from topology import Process, load as load_topology  # noqa: E402 - deploy/ on the path first

BIN = Path(sys.executable).parent
TOPOLOGY = load_topology()
SERVICES = tuple(TOPOLOGY.services)
# A replica that fails once is skipped for 2 s (the drills kill replicas on purpose).
SERVER_OPTIONS = "max_fails=1 fail_timeout=2s"


def present(service: str) -> bool:
    return (REPO / "services" / service / "src" / service / "entrypoints.py").is_file() and (BIN / f"{service}-api").exists()


def sandbox_present() -> bool:
    return present("payment") and "run_sandbox" in (REPO / "services/payment/src/payment/entrypoints.py").read_text() and (BIN / "payment-sandbox").exists()


def free_ports(count: int) -> list[int]:
    """Ports free right now (held open together, so they are distinct)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Proc:
    """One process of the stack, in its own process group, logging to a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    health_url: str | None = None  # polled until it answers 200
    ready_line: str | None = None  # or: waited for in the log
    popen: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== start #{self.starts} of {self.name} =====\n".encode())
            out.flush()
            self._offset = self.log.stat().st_size
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited while starting:\n{self.tail()}")
            if self._ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")

    def _ready(self) -> bool:
        if self.health_url:
            try:
                return httpx.get(self.health_url, timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        if self.ready_line:
            with self.log.open("rb") as f:
                f.seek(self._offset)
                return self.ready_line.encode() in f.read()
        return True

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group and wait for the process to go."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            self.kill(signal.SIGTERM)
        elif self.popen is not None:
            try:  # children left behind in the group
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def restart(self, sig: int = signal.SIGKILL, timeout: float = 60.0) -> None:
        self.kill(sig)
        self.start()
        self.wait_ready(timeout)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Mailbox:
    """The run's mail sink folder: one .eml per message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[email.message.EmailMessage]:
        out = []
        for path in sorted(self.folder.glob("*.eml")):
            out.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        return out

    def find(self, to: str, subject: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages() if to.lower() in str(m["To"]).lower() and subject in str(m["Subject"])]

    async def wait(self, to: str, subject: str, *, count: int = 1, timeout: float = 30.0) -> list[email.message.EmailMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.find(to, subject)
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no mail '{subject}' to {to} after {timeout}s (have: {[str(m['Subject']) for m in self.messages()][-10:]})")
            await asyncio.sleep(0.2)

    @staticmethod
    def body(message: email.message.EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def link_token(message: email.message.EmailMessage) -> str:
        match = re.search(r"[?&]token=([A-Za-z0-9_\-]+)", Mailbox.body(message))
        assert match, "no link with a token in the mail"
        return match.group(1)


class KafkaNode:
    """A private single-node KRaft broker, rendered, formatted and run by deploy/local/kafka.sh
    like the one of `make infra-up`, with a lighter JVM; the process is the drills' to kill."""

    SCRIPT = REPO / "deploy/local/kafka.sh"
    JVM_OPTS = "-Xms128m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"

    def __init__(self, folder: Path, port: int, controller_port: int, proxied: tuple[int, int] | None = None) -> None:
        """`proxied` = (listen port, advertised port): a second listener that clients reach through
        a fault proxy listening on the advertised port (a drill cuts the link to the broker)."""
        self.folder, self.port, self.controller_port = folder, port, controller_port
        self.bootstrap = f"127.0.0.1:{port}"
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["bash", str(self.SCRIPT), "render", str(folder), str(port), str(controller_port)], check=True, capture_output=True)
        self.properties = folder / "server.properties"
        if proxied:
            props = self.properties.read_text()
            listen, advertised = proxied
            props = (
                props.replace(f"CONTROLLER://127.0.0.1:{controller_port}\n", f"CONTROLLER://127.0.0.1:{controller_port},PROXIED://127.0.0.1:{listen}\n", 1)
                .replace(
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}", f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},PROXIED://127.0.0.1:{advertised}"
                )
                .replace("CONTROLLER:PLAINTEXT", "CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT")
            )
            assert "PROXIED://127.0.0.1:" in props.split("advertised.listeners=")[0], "the template's listeners line changed"
            self.properties.write_text(props)
        self.proc = Proc(
            "kafka",
            ["bash", str(self.SCRIPT), "run", str(folder)],
            env={**os.environ, "CET_KAFKA_JVM_OPTS": self.JVM_OPTS},
            log=folder / "kafka.out",
        )

    def format(self) -> None:
        subprocess.run(["bash", str(self.SCRIPT), "format", str(self.folder)], check=True, capture_output=True, timeout=120)

    def ready(self) -> bool:
        probe = subprocess.run([sys.executable, str(REPO / "deploy/local/kafka_probe.py"), "127.0.0.1", str(self.port), "1"], capture_output=True)
        return probe.returncode == 0

    def start(self) -> None:
        self.proc.start()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.proc.alive:
                raise RuntimeError(f"kafka exited:\n{self.proc.tail()}")
            if self.ready():
                return
            time.sleep(0.3)
        raise RuntimeError(f"kafka not ready after {timeout}s:\n{self.proc.tail()}")

    def stop(self) -> None:
        self.proc.stop()


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


def write_jwt_key(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    path.chmod(0o600)


def start_all(procs: Iterable[Proc], timeout: float = 90.0) -> None:
    procs = list(procs)
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.wait_ready(timeout)


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


async def _migrate(stack: Stack, service: str) -> None:
    env = {**os.environ, f"DATABASE_URL_{service.upper()}": stack.database_urls[service]}
    proc = await asyncio.create_subprocess_exec(str(BIN / f"{service}-admin"), "migrate", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{service}-admin migrate failed:\n{out.decode(errors='replace')}")


@asynccontextmanager
async def start_stack(
    root: Path,
    *,
    name: str = "e2e",
    logs: Path | None = None,
    env_overrides: dict[str, str] | None = None,
    gateway_overrides: dict[str, str] | None = None,
    while_booting: Callable[[Stack], Awaitable[object]] | None = None,
    pg_admin_url: str | None = None,
    worker_replicas: dict[str, int] | None = None,
    env_for: Callable[[Stack, str], dict[str, str]] | None = None,
    kafka_proxied: tuple[int, int] | None = None,
) -> AsyncIterator[Stack]:
    """Start the whole suite under `root` (fresh databases `<name>_<svc>`, its own broker), yield it
    once the gateway answers, and stop every process afterwards. `while_booting(stack)` runs once the
    databases are migrated, alongside the rest of the start (e.g. staff accounts made with the CLIs).
    `pg_admin_url`: a cluster of the drill's own instead of PG_ADMIN_URL's; `worker_replicas`: more
    than one worker process for some services (`<svc>-worker-2`, …: relay leadership drills);
    `env_for(stack, process name)`: extra environment for some processes (a fault proxy in between);
    `kafka_proxied`: the broker's second listener behind a fault proxy (`KafkaNode`)."""
    for sub in ("logs", "mail", "payment-keys"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    stack = Stack(
        root=root,
        pg_admin_url=pg_admin_url or required_env("PG_ADMIN_URL"),
        logs=logs,
        worker_replicas=dict(worker_replicas or {}),
        env_for=env_for,
        env_overrides=dict(env_overrides or {}),
        gateway_overrides=dict(gateway_overrides or {}),
        topic_prefix=f"{name}-{uuid.uuid4().hex[:8]}.",
    )
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
    stack.ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    stack.kafka = KafkaNode(root / "kafka", stack.ports["kafka"], stack.ports["kafka-controller"], proxied=kafka_proxied)
    write_jwt_key(root / "jwt-ed25519.pem")
    t0 = time.monotonic()
    timings: list[str] = []

    def mark(what: str) -> None:
        timings.append(f"{time.monotonic() - t0:6.1f}s {what}")

    booting: asyncio.Future | None = None
    async with AsyncExitStack() as exits:
        try:
            # the broker boots (JVM) while the databases are made and migrated
            kafka_boot = asyncio.create_task(asyncio.to_thread(lambda: (stack.kafka.format(), stack.kafka.start())))
            stack.select_services()
            for svc in stack.services:
                stack.database_urls[svc] = await exits.enter_async_context(throwaway_database(f"{name}_{svc}", admin_url=stack.pg_admin_url))
            await asyncio.gather(*(_migrate(stack, svc) for svc in stack.services))
            mark("databases made and migrated")
            stack.build()
            booting = asyncio.ensure_future(while_booting(stack)) if while_booting else None
            if "payment-sandbox" in stack.procs:
                subprocess.run([str(BIN / "payment-admin"), "make-test-keys", "--dir", str(root / "payment-keys")], check=True, capture_output=True)
            await kafka_boot
            mark("kafka formatted and launched")
            first = [stack.procs["mailsink"]] + ([stack.procs["payment-sandbox"]] if "payment-sandbox" in stack.procs else [])
            await asyncio.to_thread(start_all, first)  # the sandbox writes the key payment reads
            apis = [p for n, p in stack.procs.items() if n.endswith("-api") or "-api-" in n]
            for proc in apis:
                proc.start()
            await asyncio.to_thread(stack.kafka.wait_ready)
            # the broker creates no topic by itself (deploy/topics.toml is the one declaration)
            await create_topics(stack.kafka.bootstrap, prefix=stack.topic_prefix, max_partitions=6)
            mark("kafka ready, topics created")
            # Workers join their consumer groups in the background (some seconds on a fresh
            # broker); every test waits for the effects it expects, so nothing waits for them here.
            workers = [p for n, p in stack.procs.items() if "-worker" in n]
            for proc in workers:
                proc.start()
            for proc in apis:  # started above, while the broker booted
                await asyncio.to_thread(proc.wait_ready)
            mark("apis ready")
            stack.prepare_gateway()
            await asyncio.to_thread(start_all, [stack.procs["gateway"]])
            if booting is not None:
                await booting
            crashed = [p.name for p in workers if not p.alive]
            assert not crashed, f"workers exited at start: {crashed}\n" + "\n".join(stack.procs[n].tail() for n in crashed)
            mark("gateway ready")
            (root / "startup.txt").write_text("\n".join(timings) + "\n")
            yield stack
        finally:
            if booting is not None and not booting.done():
                booting.cancel()
            await asyncio.to_thread(stack.stop)
