"""Real network faults for tests and drills: a Toxiproxy server between us and PostgreSQL/Kafka.

`toxiproxy-server` is built from its Go module (github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0)
by the bootstrap into ~/.cache/cet-suite/bin; it is looked up on PATH first. Faults:
- `cut()`: the proxy is disabled — open connections are closed, new ones refused (like a stopped
  server behind a load balancer);
- `blackhole()`: every byte in both directions is dropped and nothing is closed (a partition or a
  frozen host: no RST, no FIN), until `heal()`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

DEFAULT_BINARY = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cet-suite" / "bin" / "toxiproxy-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def binary() -> str:
    found = shutil.which("toxiproxy-server") or (str(DEFAULT_BINARY) if DEFAULT_BINARY.exists() else None)
    if found is None:
        raise RuntimeError(
            "toxiproxy-server not found on PATH or in ~/.cache/cet-suite/bin: "
            "GOBIN=~/.cache/cet-suite/bin go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0 (and rename it toxiproxy-server)"
        )
    return found


class Proxy:
    def __init__(self, server: Toxiproxy, name: str, port: int, upstream: str) -> None:
        self.server, self.name, self.port, self.upstream = server, name, port, upstream
        self.address = f"127.0.0.1:{port}"

    def cut(self) -> None:
        self.server.api("PATCH", f"/proxies/{self.name}", {"enabled": False})

    def blackhole(self) -> None:
        for stream in ("upstream", "downstream"):
            self.server.api(
                "POST", f"/proxies/{self.name}/toxics", {"name": f"blackhole-{stream}", "type": "timeout", "stream": stream, "attributes": {"timeout": 0}}
            )

    def heal(self) -> None:
        for toxic in self.server.api("GET", f"/proxies/{self.name}/toxics"):
            self.server.api("DELETE", f"/proxies/{self.name}/toxics/{toxic['name']}")
        self.server.api("PATCH", f"/proxies/{self.name}", {"enabled": True})


class Toxiproxy:
    """One server process (start/stop it with `with Toxiproxy(log) as t:`)."""

    def __init__(self, log: Path | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Toxiproxy:
        out = self._log.open("ab") if self._log else subprocess.DEVNULL
        self._process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
            [binary(), "-host", "127.0.0.1", "-port", str(self.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/version", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("toxiproxy-server did not answer within 20s")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:  # the server's JSON, or None
        response = httpx.request(method, self.url + path, json=body, timeout=5)
        response.raise_for_status()
        return response.json() if response.content else None

    def proxy(self, name: str, upstream: str) -> Proxy:
        port = _free_port()
        self.api("POST", "/proxies", {"name": name, "listen": f"127.0.0.1:{port}", "upstream": upstream, "enabled": True})
        return Proxy(self, name, port, upstream)
